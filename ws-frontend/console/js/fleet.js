// The fleet: every device the client may see, with its state, last-seen time and last
// values, kept live by the app. Rows are virtualised: only the visible ones exist in the
// page, so thousands of devices scroll smoothly.

import { el, formatAgo, formatValue } from './format.js';

const ROW_HEIGHT = 34;  // --row in console.css
const OVERSCAN = 8;

export class FleetView {
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.products = new Map();
    this.devices = [];
    this.visible = [];
    this.rows = document.getElementById('fleet-rows');
    this.spacer = this.rows.querySelector('.spacer');
    this.text = document.getElementById('filter-text');
    this.product = document.getElementById('filter-product');
    this.state = document.getElementById('filter-state');
    this.count = document.getElementById('fleet-count');
    for (const input of [this.text, this.product, this.state]) {
      input.addEventListener('input', () => this.refilter());
    }
    this.rows.addEventListener('scroll', () => this.schedule());
    window.addEventListener('resize', () => this.schedule());
    // Last-seen times age even when nothing arrives.
    setInterval(() => this.schedule(), 5000);
  }

  setProducts(products) {
    this.products = new Map(products.map((p) => [p.productKey, p]));
    this.product.replaceChildren(el('option', 'all'));
    this.product.firstChild.value = '';
    for (const p of products) {
      const option = el('option', p.name ? `${p.name} (${p.productKey})` : p.productKey);
      option.value = p.productKey;
      this.product.append(option);
    }
  }

  // The whole fleet, as the API gives it. A device already shown keeps its object (the
  // device view may hold it), updated in place.
  setDevices(devices) {
    const known = this.index ?? new Map();
    this.devices = devices.map((d) => {
      const fresh = {
        productKey: d.productKey,
        deviceKey: d.deviceKey,
        name: d.name,
        driver: d.driver,
        online: d.online,
        lastSeenMs: Number(d.lastSeenMs) || 0,
        values: d.lastValues ?? {},
      };
      const shown = known.get(`${d.productKey}/${d.deviceKey}`);
      return shown ? Object.assign(shown, fresh) : fresh;
    });
    this.index = new Map(this.devices.map((d) => [`${d.productKey}/${d.deviceKey}`, d]));
    this.refilter();
  }

  find(productKey, deviceKey) {
    return this.index?.get(`${productKey}/${deviceKey}`);
  }

  // A live event about a device: online/offline or a property report.
  update(productKey, deviceKey, change) {
    const device = this.find(productKey, deviceKey);
    if (!device) return;
    if (change.online !== undefined) device.online = change.online;
    if (change.values) Object.assign(device.values, change.values);
    device.lastSeenMs = Math.max(device.lastSeenMs, change.timestamp ?? Date.now());
    if (change.online !== undefined && this.state.value) this.refilter();
    else this.schedule();
  }

  refilter() {
    const text = this.text.value.trim().toLowerCase();
    const product = this.product.value;
    const state = this.state.value;
    this.visible = this.devices.filter((d) =>
      (!product || d.productKey === product) &&
      (!state || (state === 'online') === d.online) &&
      (!text || d.deviceKey.toLowerCase().includes(text) || (d.name ?? '').toLowerCase().includes(text)));
    this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.render();
    });
  }

  render() {
    // The count and the rows change in the same frame: what the count says is on screen.
    this.count.textContent = `${this.visible.length} of ${this.devices.length} devices`;
    this.spacer.style.height = `${this.visible.length * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(this.rows.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.visible.length,
                          Math.ceil((this.rows.scrollTop + this.rows.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    // A row stays the same element while it is on screen, updated in place: a click is a
    // press and a release on one element, and one replaced in between (live events
    // re-render the rows several times a second) would lose it.
    const shown = this.shown ?? new Map();
    this.shown = new Map();
    const nodes = [this.spacer];
    for (let i = first; i < last; i++) {
      const device = this.visible[i];
      const key = `${device.productKey}/${device.deviceKey}`;
      const row = shown.get(key) ?? this.row(device);
      this.fill(row, device, i);
      this.shown.set(key, row);
      nodes.push(row);
    }
    const children = this.rows.children;
    if (children.length !== nodes.length || nodes.some((node, i) => children[i] !== node)) {
      this.rows.replaceChildren(...nodes);
    }
  }

  row(device) {
    const row = el('div', null, 'fleet-row');
    row.dataset.device = `${device.productKey}/${device.deviceKey}`;
    row.append(el('span', null, 'state'), el('span', device.productKey), el('span', device.deviceKey),
               el('span', device.driver), el('span'), el('span', null, 'values'));
    row.addEventListener('click', () => this.onOpen(device.productKey, device.deviceKey));
    return row;
  }

  // What changes in a row; only what differs is written.
  fill(row, device, i) {
    const top = `${i * ROW_HEIGHT}px`;
    if (row.style.top !== top) row.style.top = top;
    const [stateCell, , , driverCell, seenCell, valuesCell] = row.children;
    const state = device.online ? 'online' : 'offline';
    setText(stateCell, state);
    if (stateCell.className !== `state ${state}`) stateCell.className = `state ${state}`;
    setText(driverCell, device.driver);
    setText(seenCell, formatAgo(device.lastSeenMs));
    setText(valuesCell, this.summary(device));
  }

  summary(device) {
    const properties = this.products.get(device.productKey)?.thingModel?.properties ?? [];
    const specs = new Map(properties.map((p) => [p.id, p.spec]));
    return Object.keys(device.values).sort()
      .map((id) => `${id} ${formatValue(specs.get(id), device.values[id])}`)
      .join(' · ');
  }
}

function setText(node, text) {
  const value = text ?? '';
  if (node.textContent !== value) node.textContent = value;
}
