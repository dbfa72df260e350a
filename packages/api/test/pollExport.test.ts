import { type Poll, PollExportDocument } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from '../src/export/csv.js';
import { buildPollExport } from '../src/export/pollExport.js';

const options = ['=SUM(A1:A9)', 'Pizza, large', 'Soup "hot"\nor cold', '-5', '@home', 'Tea'];
const h = (name: string) => optionHash(name);

const poll: Poll = {
  id: '3EB0ABC',
  chatId: '120363000000000001@g.us',
  creator: { jid: '15550000009@s.whatsapp.net', fromMe: false },
  question: 'Lunch?',
  options: options.map((name) => ({ name, hash: h(name) })),
  selectableCount: 0,
  createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  voters: [
    {
      voter: '15550000002@s.whatsapp.net',
      name: 'Zoë "Z" Müller',
      selected: [h('Tea'), h('=SUM(A1:A9)')],
      timestampMs: Date.UTC(2026, 0, 2, 3, 5, 0, 123),
    },
    {
      voter: '15550000003@s.whatsapp.net',
      name: '+49 170 1234567',
      selected: [h('Pizza, large')],
      timestampMs: Date.UTC(2026, 0, 2, 3, 6, 0),
    },
    {
      voter: '200000000000004@lid',
      selected: [h('Pizza, large'), h('Soup "hot"\nor cold')],
      timestampMs: Date.UTC(2026, 0, 2, 3, 7, 0),
    },
  ],
  unknownOptionVotes: 2,
  version: 7,
};

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['=1+1', "'=1+1"],
    ['+49 170', "'+49 170"],
    ['-5', "'-5"],
    ['@cmd', "'@cmd"],
    ['\tTab', "'\tTab"],
    ['=a,"b"', `"'=a,""b"""`],
    ['', ''],
  ])('%j -> %j', (input, output) => expect(csvCell(input)).toBe(output));

  it('writes numbers as they are, rows with CRLF', () => {
    expect(
      toCsv([
        ['a', -1, 0],
        ['b', 2, 3],
      ]),
    ).toBe('a,-1,0\r\nb,2,3\r\n');
  });
});

describe('buildPollExport', () => {
  it('builds the CSV table: header, a row per voter, the totals; escaped and guarded', () => {
    const file = buildPollExport(poll, 'csv');
    expect(file.filename).toBe('poll-3EB0ABC.csv');
    expect(file.contentType).toBe('text/csv; charset=utf-8');
    expect(file.body).toBe(
      '\uFEFF' +
        `voter,name,voted_at,'=SUM(A1:A9),"Pizza, large","Soup ""hot""\nor cold",'-5,'@home,Tea\r\n` +
        `15550000002@s.whatsapp.net,"Zoë ""Z"" Müller",2026-01-02T03:05:00.123Z,1,0,0,0,0,1\r\n` +
        `15550000003@s.whatsapp.net,'+49 170 1234567,2026-01-02T03:06:00.000Z,0,1,0,0,0,0\r\n` +
        `200000000000004@lid,,2026-01-02T03:07:00.000Z,0,1,1,0,0,0\r\n` +
        `TOTAL,,,1,2,1,0,0,1\r\n`,
    );
  });

  it('builds the JSON document: counts per option, selections by name, names or null', () => {
    const file = buildPollExport(poll, 'json');
    expect(file.filename).toBe('poll-3EB0ABC.json');
    expect(file.contentType).toBe('application/json; charset=utf-8');
    const doc = PollExportDocument.parse(JSON.parse(file.body));
    expect(doc).toEqual({
      poll: {
        id: '3EB0ABC',
        chatId: '120363000000000001@g.us',
        creator: { jid: '15550000009@s.whatsapp.net', fromMe: false },
        question: 'Lunch?',
        selectableCount: 0,
        createdAt: '2026-01-02T03:04:05.000Z',
        version: 7,
      },
      options: [
        { name: '=SUM(A1:A9)', hash: h('=SUM(A1:A9)'), count: 1 },
        { name: 'Pizza, large', hash: h('Pizza, large'), count: 2 },
        { name: 'Soup "hot"\nor cold', hash: h('Soup "hot"\nor cold'), count: 1 },
        { name: '-5', hash: h('-5'), count: 0 },
        { name: '@home', hash: h('@home'), count: 0 },
        { name: 'Tea', hash: h('Tea'), count: 1 },
      ],
      voters: [
        {
          voter: '15550000002@s.whatsapp.net',
          name: 'Zoë "Z" Müller',
          selected: ['=SUM(A1:A9)', 'Tea'],
          votedAt: '2026-01-02T03:05:00.123Z',
        },
        {
          voter: '15550000003@s.whatsapp.net',
          name: '+49 170 1234567',
          selected: ['Pizza, large'],
          votedAt: '2026-01-02T03:06:00.000Z',
        },
        {
          voter: '200000000000004@lid',
          name: null,
          selected: ['Pizza, large', 'Soup "hot"\nor cold'],
          votedAt: '2026-01-02T03:07:00.000Z',
        },
      ],
      unknownOptionVotes: 2,
    });
  });

  it('keeps a poll id that is not filename-safe out of the path', () => {
    expect(buildPollExport({ ...poll, id: '../x y' }, 'csv').filename).toBe('poll-___x_y.csv');
  });
});
