import t from 'tap';
import { parseCommand } from '../../src/bot/parse.js';

t.test('commands with and without the mention prefix', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['ping', 'ping', ''],
    ['  PING  ', 'ping', ''],
    ['Toodles ping', 'ping', ''],
    ['toodles: status now', 'status', 'now'],
    ['Toodles Bot help', 'help', ''],
    ['toodlesping', 'toodlesping', ''],
    ['Toodles', '', ''],
    ['', '', ''],
  ];
  for (const [text, name, args] of cases) t.same(parseCommand(text, 'Toodles Bot'), { name, args }, JSON.stringify(text));
});
