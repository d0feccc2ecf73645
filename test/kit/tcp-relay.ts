/**
 * A loopback TCP relay in front of one port, for cutting ONE client off (the database stays up for
 * the others): stall() stops moving bytes on every connection, open or new, without closing any
 * (a stalled network path or a frozen peer, as this client sees it); resume() lets them flow again.
 */
import net from 'node:net';

export interface TcpRelay {
  port: number;
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<TcpRelay> {
  let stalled = false;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const waiting = new Map<net.Socket, () => void>();
  const server = net.createServer((client) => {
    const open = () => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [client, upstream];
      pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      for (const s of pair) s.on('close', end).on('error', end);
    };
    if (!stalled) return open();
    client.pause();
    client.on('error', () => client.destroy());
    waiting.set(client, open);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall() {
      stalled = true;
      for (const [a, b] of pairs) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
      }
    },
    resume() {
      stalled = false;
      for (const [a, b] of pairs) {
        a.pipe(b);
        b.pipe(a);
      }
      for (const open of waiting.values()) open();
      waiting.clear();
    },
    async close() {
      for (const client of waiting.keys()) client.destroy();
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise((r) => server.close(r));
    },
  };
}
