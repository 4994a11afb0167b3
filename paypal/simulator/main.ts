// The PayPal simulator as its own process (`tsx paypal/simulator/main.ts`); `npm start` runs it when
// PAYPAL_MODE=simulator. It listens on 127.0.0.1, port PAYPAL_SIMULATOR_PORT or the port of
// PAYPAL_SIMULATOR_URL (8090), and notifies Keyship at PUBLIC_URL. With PAYPAL_SIMULATOR_DATA (a
// folder; npm start gives it one under .data/) what it owes Keyship survives its restarts. With
// PAYPAL_SIMULATOR_ORDERS_IPN=on an Orders v2 capture also sends an IPN, as for a seller with IPN on.
import { loadConfigOrExit } from '../../config/env';
import { startSimulator } from './server';

async function main() {
  const config = loadConfigOrExit();
  const fromUrl = new URL(config.paypal.simulatorUrl);
  const port = Number(process.env.PAYPAL_SIMULATOR_PORT ?? (fromUrl.port || 8090));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`PAYPAL_SIMULATOR_PORT "${process.env.PAYPAL_SIMULATOR_PORT}" is not a port number; set it to 1..65535 or unset it.`);
    process.exit(2);
  }
  const simulator = await startSimulator({
    port,
    host: '127.0.0.1',
    ipnUrl: `${config.publicUrl}/paypal/ipn`,
    webhookUrl: process.env.PAYPAL_SIMULATOR_WEBHOOKS === 'off' ? undefined : `${config.publicUrl}/paypal/webhook`,
    webhookId: config.paypal.webhookId,
    pdtToken: config.paypal.pdtToken,
    business: config.paypal.receiverEmail,
    dataDir: process.env.PAYPAL_SIMULATOR_DATA || undefined,
    // The REST app credentials Keyship is configured with, when it names any (else the simulator's own).
    clientId: config.paypal.clientId,
    clientSecret: config.paypal.clientSecret,
    ordersIpn: process.env.PAYPAL_SIMULATOR_ORDERS_IPN === 'on',
    log: (line) => console.log(`[paypal-simulator] ${line}`),
  });
  console.log(`[paypal-simulator] listening on ${simulator.url}; IPN to ${config.publicUrl}/paypal/ipn`);
  const stop = () => {
    void simulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`The PayPal simulator could not start: ${error.message}`);
  process.exit(1);
});
