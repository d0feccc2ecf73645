// Every outage kind at the default settings, standing for ten minutes (the clock jumps): see test/support/outage-tests.ts.
import t from 'tap';
import { outageTests } from '../support/outage-tests.js';

outageTests(t, true);
