import { MemoryResultStorage } from '../../src/index.js';
import { testResultStorage } from '../../src/testing/index.js';

await testResultStorage('MemoryResultStorage', { make: () => new MemoryResultStorage() });
