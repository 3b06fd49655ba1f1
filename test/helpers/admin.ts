/** The admin (server-to-server) API as tests call it: JSON in, status and JSON out. */
export const ADMIN_TOKEN = 'admin-token-0123456789-0123456789-abcdef';

export interface AdminAnswer {
  status: number;
  body: Record<string, unknown>;
}

export function adminApi(server: { http: string }, token = ADMIN_TOKEN) {
  const call = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, as = token): Promise<AdminAnswer> => {
    const res = await fetch(`${server.http}${path}`, {
      method,
      headers: { authorization: `Bearer ${as}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    call,
    get: (path: string) => call('GET', path).then((r) => r.body),
    post: (path: string, body: unknown) => call('POST', path, body).then((r) => r.body),
  };
}
