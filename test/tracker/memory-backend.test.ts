import { JobTracker } from '../../src/index.js';
import { testJobBackend } from '../conformance/job-backend.js';

testJobBackend('memory', {
  makeTracker: (options) => new JobTracker(options),
});
