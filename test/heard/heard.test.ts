import t from 'tap';
import { HeardActivities } from '../../src/heard/heard.js';

t.test('the heard record: remembers ids, forgets the oldest past its bound, a repeat does not count twice', async (t) => {
  const heard = new HeardActivities(3);
  for (const id of ['a', 'b', 'c', 'a']) heard.add(id);
  t.ok(
    ['a', 'b', 'c'].every((id) => heard.has(id)),
    'all three, "a" once',
  );
  heard.add('d');
  t.notOk(heard.has('a'), 'the oldest went');
  t.ok(['b', 'c', 'd'].every((id) => heard.has(id)));
  t.notOk(heard.has('never'));
});
