// `npm run stack`: start the local stack, print its environment, keep it up until Ctrl-C.
//   eval "$(npm run --silent stack | sed '/^# stack ready/q')"  # or copy the export lines
import { shellExports, startStack } from './stack.js';

const startedAt = performance.now();
const stack = await startStack();
process.stdout.write(`${shellExports(stack.env)}\n`);
process.stderr.write(
  `# OpenBao ${stack.env.VAULT_ADDR}, moto ${stack.moto.endpoint}, PostgreSQL ` +
    `127.0.0.1:${stack.postgres.port} (started in ${Math.round(performance.now() - startedAt)} ms)\n`,
);
process.stdout.write('# stack ready (Ctrl-C to stop)\n');

// The listeners stay for the whole shutdown: a repeated signal must not cut the orderly stop
// short. tsx's CLI relays a second SIGINT when this process reports the first one late, and
// the stack's own handlers kill everything at once when nobody else listens.
const signal = await new Promise<NodeJS.Signals>((resolve) => {
  process.on('SIGINT', resolve);
  process.on('SIGTERM', resolve);
});
process.stderr.write(`# ${signal}: stopping the stack\n`);
await stack.stop();
process.stderr.write('# stack stopped\n');
process.exit(0);
