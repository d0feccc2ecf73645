// Every outage kind at the default settings, for 12 s: see test/kit/outage-tests.ts.
import t from 'tap';
import { outageTests } from '../kit/outage-tests.js';

outageTests(t, false);
