// The read-only HTTP API of docs/protocol.md §11, with the client token as a Bearer header.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function get(token, path) {
  let response;
  try {
    response = await fetch(`/api/v1/${path}`, {
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'SERVER_NOT_AVAILABLE', 'the gateway cannot be reached');
  }
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.code ?? 'SYSTEM_ERROR',
                       body?.message ?? `HTTP ${response.status}`);
  }
  return body;
}

// Every device the client may see, page after page.
export async function allDevices(token) {
  const devices = [];
  let pageToken = '';
  do {
    const query = new URLSearchParams({ page_size: '1000' });
    if (pageToken) query.set('page_token', pageToken);
    const page = await get(token, `devices?${query}`);
    devices.push(...page.devices);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return devices;
}
