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
    const nodes = [this.spacer];
    for (let i = first; i < last; i++) nodes.push(this.row(this.visible[i], i));
    this.rows.replaceChildren(...nodes);
  }

  row(device, i) {
    const row = el('div', null, 'fleet-row');
    row.style.top = `${i * ROW_HEIGHT}px`;
    row.dataset.device = `${device.productKey}/${device.deviceKey}`;
    const state = device.online ? 'online' : 'offline';
    row.append(
      el('span', state, `state ${state}`),
      el('span', device.productKey),
      el('span', device.deviceKey),
      el('span', device.driver),
      el('span', formatAgo(device.lastSeenMs)),
      el('span', this.summary(device), 'values'));
    row.addEventListener('click', () => this.onOpen(device.productKey, device.deviceKey));
    return row;
  }

  summary(device) {
    const properties = this.products.get(device.productKey)?.thingModel?.properties ?? [];
    const specs = new Map(properties.map((p) => [p.id, p.spec]));
    return Object.keys(device.values).sort()
      .map((id) => `${id} ${formatValue(specs.get(id), device.values[id])}`)
      .join(' · ');
  }
}
