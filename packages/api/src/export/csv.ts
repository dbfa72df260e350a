/** Characters that make a spreadsheet read a cell as a formula (CSV injection, OWASP). */
const formulaStart = /^[=+\-@\t\r]/;

/**
 * One CSV cell per RFC 4180: quoted when it holds a quote, comma or line break, quotes
 * doubled. Text that a spreadsheet would run as a formula gets a leading `'`. Numbers are
 * written as they are.
 */
export const csvCell = (value: string | number): string => {
  if (typeof value === 'number') return String(value);
  const text = formulaStart.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** Rows as CSV text: CRLF line ends (RFC 4180), a final CRLF. */
export const toCsv = (rows: readonly (readonly (string | number)[])[]): string =>
  rows.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');
