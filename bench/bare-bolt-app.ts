/**
 * The baseline for bench:slack: Bolt's own HTTP receiver and a `/deploy` handler that only acks.
 * Run as its own process so it is measured like the bot. Usage: node bare-bolt-app.js PORT SECRET
 */
import { App, HTTPReceiver } from '@slack/bolt';

const [port, secret] = process.argv.slice(2);
const noop = () => undefined;
const logger = { debug: noop, info: noop, warn: noop, error: noop, setLevel: noop, getLevel: () => 'error' as never, setName: noop };
const app = new App({
  receiver: new HTTPReceiver({ signingSecret: secret!, logger }),
  authorize: async () => ({ botToken: 'xoxb-bench' }),
  logger,
});
app.command('/deploy', async ({ ack }) => {
  await ack();
});
await app.start(Number(port));
process.stdout.write('ready\n');
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
