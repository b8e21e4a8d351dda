// One device: its thing model as forms (read any property, write the writable ones,
// invoke functions), every answer with its code in plain words, and a log of the
// device's live topics.

import { describe } from './codes.js';
import { appendLog, el, formatAgo, formatTime, formatValue } from './format.js';

const NUMERIC = new Set(['INT', 'LONG', 'FLOAT', 'DOUBLE', 'DATE']);

// An input for a value of `spec` (docs/device-service.md, thing models).
function inputFor(spec, id, required) {
  let input;
  if (spec.type === 'BOOL') {
    input = el('select');
    for (const v of ['true', 'false']) input.append(Object.assign(el('option', v), { value: v }));
  } else if (spec.type === 'ENUM') {
    input = el('select');
    for (const v of spec.enumValues) input.append(Object.assign(el('option', v), { value: v }));
  } else {
    input = el('input');
    if (NUMERIC.has(spec.type)) {
      input.type = 'number';
      input.step = spec.type === 'FLOAT' || spec.type === 'DOUBLE' ? 'any' : '1';
      if (spec.min !== undefined) input.min = String(spec.min);
      if (spec.max !== undefined) input.max = String(spec.max);
      if (spec.type === 'DATE') input.placeholder = 'ms since 1970';
    } else {
      input.type = 'text';
      input.maxLength = spec.maxLength || 4096;
    }
  }
  input.name = id;
  input.required = required;
  return input;
}

// The typed value of an input, or undefined when it is empty.
function valueOf(spec, input) {
  if (input.value === '') return undefined;
  if (spec.type === 'BOOL') return input.value === 'true';
  if (NUMERIC.has(spec.type)) return Number(input.value);
  return input.value;
}

export class DeviceView {
  constructor(connection) {
    this.connection = connection;
    this.title = document.getElementById('device-title');
    this.state = document.getElementById('device-state');
    this.meta = document.getElementById('device-meta');
    this.propertyRows = document.querySelector('#properties tbody');
    this.functions = document.getElementById('functions');
    this.answers = document.getElementById('answers');
    this.events = document.getElementById('events');
    this.paused = false;
    this.skipped = 0;
    const pause = document.getElementById('events-pause');
    pause.addEventListener('click', () => {
      this.paused = !this.paused;
      pause.textContent = this.paused ? 'Resume' : 'Pause';
      if (!this.paused && this.skipped) {
        appendLog(this.events, el('li', `… ${this.skipped} events not shown while paused`));
        this.skipped = 0;
      }
    });
    document.getElementById('events-clear').addEventListener('click', () => this.events.replaceChildren());
    document.getElementById('read-selected').addEventListener('click', () => {
      const ids = [...this.propertyRows.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);
      if (ids.length) this.read(ids);
    });
    document.getElementById('read-all').addEventListener('click', () => this.read([]));
  }

  show(product, device) {
    this.hide();
    this.product = product;
    this.device = device;
    this.title.textContent = `${device.productKey} / ${device.deviceKey}`;
    this.answers.replaceChildren();
    this.events.replaceChildren();
    this.buildProperties();
    this.buildFunctions();
    this.refresh();
    const base = `/device/${device.productKey}/${device.deviceKey}`;
    this.eventSub = this.connection.sub(`${base}/**`, null, (frame) => this.onEvent(base, frame), true);
  }

  hide() {
    if (this.eventSub) this.connection.unsub(this.eventSub);
    this.eventSub = null;
    this.device = null;
  }

  // The device's state and values changed (live events, answers).
  refresh() {
    const d = this.device;
    if (!d) return;
    const state = d.online ? 'online' : 'offline';
    this.state.textContent = state;
    this.state.className = `badge ${state}`;
    this.meta.textContent = `${d.name || d.deviceKey} · driver ${d.driver} · last seen ${formatAgo(d.lastSeenMs)}`;
    for (const row of this.propertyRows.rows) {
      const spec = this.specs.get(row.dataset.property);
      row.querySelector('.value').textContent = formatValue(spec, d.values[row.dataset.property]);
    }
  }

  buildProperties() {
    const properties = this.product.thingModel?.properties ?? [];
    this.specs = new Map(properties.map((p) => [p.id, p.spec]));
    this.propertyRows.replaceChildren();
    for (const p of properties) {
      const row = el('tr');
      row.dataset.property = p.id;
      const pick = Object.assign(el('input'), { type: 'checkbox', value: p.id });
      const name = el('td', p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id);
      const type = el('td', `${p.spec.type.toLowerCase()}${p.access === 'READ_WRITE' ? ', rw' : ', r'}`, 'muted');
      const write = el('td');
      if (p.access === 'READ_WRITE') {
        const input = inputFor(p.spec, p.id, true);
        const button = el('button', 'Write');
        button.type = 'button';
        button.addEventListener('click', () => {
          if (!input.reportValidity()) return;
          const value = valueOf(p.spec, input);
          if (value === undefined) return;
          this.command(`write ${p.id}`, { messageType: 'WRITE_PROPERTY', properties: { [p.id]: value } });
        });
        write.append(input, ' ', button);
      }
      const check = el('td');
      check.append(pick);
      row.append(check, name, type, el('td', '—', 'value'), write);
      this.propertyRows.append(row);
    }
  }

  buildFunctions() {
    this.functions.replaceChildren();
    const functions = this.product.thingModel?.functions ?? [];
    if (!functions.length) this.functions.append(el('p', 'This product has no functions.', 'muted'));
    for (const f of functions) {
      const form = el('form', null, 'function');
      form.dataset.function = f.id;
      form.append(el('strong', f.id), f.name && f.name !== f.id ? el('span', ` — ${f.name}`, 'muted') : '', el('br'));
      const inputs = f.inputs.map((p) => {
        const input = inputFor(p.spec, p.id, p.required);
        const label = el('label', `${p.id}${p.required ? '' : ' (optional)'} `);
        label.append(input);
        form.append(label);
        return [p, input];
      });
      const button = el('button', 'Invoke');
      button.type = 'submit';
      form.append(button);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const values = {};
        for (const [p, input] of inputs) {
          const value = valueOf(p.spec, input);
          if (value !== undefined) values[p.id] = value;
        }
        this.command(`invoke ${f.id}`, { messageType: 'INVOKE_FUNCTION', functionId: f.id, inputs: values });
      });
      this.functions.append(form);
    }
  }

  read(ids) {
    this.command(ids.length ? `read ${ids.join(', ')}` : 'read all properties',
                 { messageType: 'READ_PROPERTY', properties: ids });
  }

  // Sends one command to this device and logs its answer.
  command(what, parameter) {
    const d = this.device;
    const entry = el('li', `${formatTime()} ${what} … waiting`);
    appendLog(this.answers, entry);
    let answered = false;
    this.connection.sub(`/device-message-sender/${d.productKey}/${d.deviceKey}`, parameter, (frame) => {
      if (frame.type === 'result') {
        answered = true;
        entry.replaceChildren(`${formatTime(frame.timestamp)} ${what}: `, el('span', 'OK', 'code'),
                              ` ${JSON.stringify(frame.payload)}`);
        entry.dataset.code = 'OK';
        if (parameter.messageType !== 'INVOKE_FUNCTION' && d === this.device) {
          Object.assign(d.values, frame.payload);
          d.lastSeenMs = frame.timestamp ?? Date.now();
          this.refresh();
        }
      } else if (frame.type === 'error') {
        answered = true;
        entry.className = 'bad';
        entry.dataset.code = frame.code;
        entry.replaceChildren(`${formatTime()} ${what}: `, el('span', frame.code, 'code'),
                              ` — ${describe(frame.code)} (${frame.message})`);
      } else if (frame.type === 'complete' && !answered) {
        entry.textContent = `${formatTime()} ${what}: no answer`;
      }
    });
  }

  onEvent(base, frame) {
    if (frame.type !== 'result') {
      if (frame.type === 'error') {
        appendLog(this.events, el('li', `${frame.code} — ${describe(frame.code)} (${frame.message})`, 'bad'));
      }
      return;
    }
    if (this.paused) {
      this.skipped++;
      return;
    }
    const topic = frame.topic.startsWith(base) ? frame.topic.slice(base.length + 1) : frame.topic;
    const entry = el('li', `${formatTime(frame.timestamp)} ${topic} ${JSON.stringify(frame.payload)}`);
    entry.dataset.topic = topic;
    if (frame.code) {
      // A device's failed answer on a reply topic.
      entry.className = 'bad';
      entry.append(' ', el('span', frame.code, 'code'), ` — ${describe(frame.code)} (${frame.message})`);
    }
    appendLog(this.events, entry);
  }
}
