// Every outage kind at the default settings, for 12 s: see test/support/outage-tests.ts.
import t from 'tap';
import { outageTests } from '../support/outage-tests.js';

outageTests(t, false);
