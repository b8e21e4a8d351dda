// The console's one WebSocket to the gateway (docs/protocol.md). The token travels as the
// subprotocol "bearer.<token>" beside "northbound": a browser cannot set an Authorization
// header on a WebSocket, and the token must stay out of every URL.

const RETRY_MAX_MS = 30000;

export class Connection {
  // callbacks: state(state, text), authError(message), frame(direction, text).
  constructor(token, callbacks) {
    this.token = token;
    this.callbacks = callbacks;
    this.subs = new Map();  // id -> {topic, parameter, handler, persistent}
    this.nextId = 1;
    this.retryMs = 1000;
    this.stopped = false;
  }

  open() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.callbacks.state('connecting', 'connecting…');
    const ws = new WebSocket(`${scheme}://${location.host}/messaging`,
                             ['northbound', `bearer.${this.token}`]);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 1000;
      this.callbacks.state('open', 'connected');
      for (const [id, sub] of this.subs) this.sendSub(id, sub);
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => this.closed(ws, event);
  }

  close() {
    this.stopped = true;
    this.ws?.close(1000);
  }

  // Subscribes to `topic`; handler(frame) gets every frame of the subscription up to and
  // including its `complete`. Persistent subscriptions are made again after a reconnect.
  sub(topic, parameter, handler, persistent = false) {
    const id = `c${this.nextId++}`;
    const sub = { topic, parameter, handler, persistent };
    this.subs.set(id, sub);
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.sendSub(id, sub);
    } else if (!persistent) {
      this.subs.delete(id);
      handler({ type: 'error', id, code: 'SERVER_NOT_AVAILABLE', message: 'not connected' });
      handler({ type: 'complete', id });
    }
    return id;
  }

  unsub(id) {
    if (!this.subs.has(id)) return;
    if (this.ws?.readyState !== WebSocket.OPEN) {
      // Not connected: the server holds nothing; just do not make it again.
      this.subs.delete(id);
      return;
    }
    this.subs.get(id).persistent = false;
    this.send(JSON.stringify({ type: 'unsub', id }));
  }

  // A frame typed by the user; false when there is no connection to send it on.
  sendRaw(text) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.send(text);
    return true;
  }

  sendSub(id, sub) {
    const frame = { id, type: 'sub', topic: sub.topic };
    if (sub.parameter) frame.parameter = sub.parameter;
    this.send(JSON.stringify(frame));
  }

  send(text) {
    this.ws.send(text);
    this.callbacks.frame('out', text);
  }

  receive(text) {
    this.callbacks.frame('in', text);
    let frame;
    try {
      frame = JSON.parse(text);
    } catch (e) {
      return;
    }
    if (frame.type === 'authError') {
      this.stopped = true;
      this.callbacks.authError(frame.message || 'invalid token');
      return;
    }
    const sub = this.subs.get(frame.id);
    if (!sub) return;  // Raw frames' own ids, or an unsub already answered.
    if (frame.type === 'complete') this.subs.delete(frame.id);
    sub.handler(frame);
  }

  closed(ws, event) {
    if (ws !== this.ws) return;
    // Commands in flight are lost with the connection: say so and end them.
    for (const [id, sub] of this.subs) {
      if (sub.persistent) continue;
      this.subs.delete(id);
      sub.handler({ type: 'error', id, code: 'SERVER_NOT_AVAILABLE', message: 'the connection was lost' });
      sub.handler({ type: 'complete', id });
    }
    if (this.stopped) {
      this.callbacks.state('idle', 'not connected');
      return;
    }
    if (event.code === 1008) {
      this.callbacks.authError(event.reason || 'invalid token');
      return;
    }
    const seconds = Math.round(this.retryMs / 1000);
    this.callbacks.state('retry', `disconnected (${event.code}); retrying in ${seconds} s`);
    setTimeout(() => { if (!this.stopped) this.open(); }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}
