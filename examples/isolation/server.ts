/**
 * Isolated plugins, discovered from a folder: `primes` burns CPU in a worker thread, `transcode`
 * runs a program in a child process of its own. The host's event loop stays free for HTTP and SSE.
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { JobTracker, LocalPluginManager, MemoryResultStorage } from 'jobwire';
import { createJobRoutes, toNodeHandler } from 'jobwire/http';
import { listen, runFromCommandLine, type RunningExample } from '../shared/serve.js';

export async function start({ port = 3000, host = '127.0.0.1' } = {}): Promise<RunningExample> {
  const plugins = new LocalPluginManager();
  const { loaded, failed } = await plugins.loadDirectory(new URL('./plugins/', import.meta.url));
  for (const { module, error } of failed) console.error(`skipped ${module}: ${error.message}`);
  console.log(`plugins: ${loaded.join(', ')}`);

  const tracker = new JobTracker({ plugins, storage: new MemoryResultStorage(), concurrency: 4 });
  const server = createServer(toNodeHandler(createJobRoutes(tracker)));
  const running = await listen(server, tracker, port, host);
  return {
    url: running.url,
    async close() {
      await running.close();
      await plugins.close(); // stop the idle threads now rather than after their idle timeout
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runFromCommandLine('jobwire isolation example', start);
