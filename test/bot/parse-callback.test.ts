import t from 'tap';
import { submitData } from '../../src/bot/command.js';
import { parseCallback } from '../../src/bot/parse.js';

t.test('a card submit names its command and, for a button other than the form submit, the action', async (t) => {
  t.same(parseCallback(submitData('testing')), { keyword: 'testing', actionName: undefined });
  t.same(parseCallback(submitData('status', 'refresh', { since: '1' })), { keyword: 'status', actionName: 'refresh' });
  t.same(parseCallback({ callback: 'testing.remove.7' }), { keyword: 'testing', actionName: 'remove.7' }, 'split at the first dot only');
  t.same(parseCallback({ callback: 42 }), { keyword: '', actionName: undefined }, 'no callback string: no command');
  t.same(parseCallback({}), { keyword: '', actionName: undefined });
});
