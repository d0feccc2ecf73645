import t from 'tap';
import { errorText } from '../../src/util/error-text.js';

const httpError = (message: string, statusCode: number) => Object.assign(new Error(message), { statusCode });

t.test('the first line, with the HTTP status when the message lacks it', async (t) => {
  t.equal(errorText(new Error('socket hang up\n    at x')), 'socket hang up');
  t.equal(errorText(httpError('Service Unavailable\nTRACKING ID: abc', 503)), 'HTTP 503: Service Unavailable');
  t.equal(errorText(httpError('got 503 from upstream', 503)), 'got 503 from upstream');
  t.equal(errorText('plain string'), 'plain string');
});

t.test('an HTTP error without a message says only its status, not "undefined"', async (t) => {
  t.equal(errorText(httpError('undefined', 503)), 'HTTP 503');
  t.equal(errorText(httpError('', 407)), 'HTTP 407');
});
