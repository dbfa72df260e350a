/** How a WhatsApp id reads to people: a phone number as `+49…`, a LID as `LID 1234…`, a group. */
export const describeJid = (jid: string): string => {
  const [user = jid, server = ''] = jid.split('@');
  if (server === 's.whatsapp.net') return `+${user.split(':')[0]}`;
  if (server === 'lid') return `LID ${user.split(':')[0]}`;
  if (server === 'g.us') return 'group';
  return jid;
};

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

export const formatTime = (ms: number): string => timeFormat.format(new Date(ms));
