import { MemoryBackend } from '../../src/index.js';
import { testJobBackend } from '../../src/testing/index.js';

await testJobBackend('memory', { backend: () => new MemoryBackend() });
