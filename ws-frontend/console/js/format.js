// Values as people read them, using the thing model's types and units.

export function formatValue(spec, value) {
  if (value === undefined || value === null) return '—';
  if (spec?.type === 'DATE' && typeof value === 'number') return new Date(value).toLocaleString();
  if (typeof value === 'number' && !Number.isInteger(value)) value = Number(value.toFixed(2));
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return spec?.unit ? `${text} ${spec.unit}` : text;
}

export function formatAgo(ms) {
  if (!ms) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

export function formatTime(ms) {
  return new Date(ms ?? Date.now()).toLocaleTimeString();
}

// An element with text (never HTML: everything shown comes from devices or users).
export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// Appends an entry to a log list, newest last, keeping at most `limit` entries.
export function appendLog(list, node, limit = 500) {
  const follow = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(node);
  while (list.childElementCount > limit) list.firstElementChild.remove();
  if (follow) list.scrollTop = list.scrollHeight;
}
