import { MemoryResultStorage } from '../../src/index.js';
import { testResultStorage } from '../conformance/result-storage.js';

testResultStorage('MemoryResultStorage', { make: () => new MemoryResultStorage() });
