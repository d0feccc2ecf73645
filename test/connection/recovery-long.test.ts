// Every outage kind at the default settings, standing for ten minutes (the clock jumps): see test/kit/outage-tests.ts.
import t from 'tap';
import { outageTests } from '../kit/outage-tests.js';

outageTests(t, true);
