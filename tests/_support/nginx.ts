// An nginx configuration that keeps everything (pid, logs, temp paths) in
// one directory and serves `<dir>/www` over HTTP and HTTPS on loopback, for
// the interoperability tests and the benchmarks.

/** What the configuration needs. */
export interface NginxConfigOptions {
  dir: string;
  httpPort: number;
  httpsPort: number;
  certFile: string;
  keyFile: string;
  /** Requests one keep-alive connection may carry (default 100,000). */
  keepaliveRequests?: number;
  /** Extra directives for the http block (e.g. `keepalive_timeout 600s;`). */
  httpExtra?: string;
  /** Extra directives for the server block (e.g. a redirect location). */
  serverExtra?: string;
}

/** The text of nginx.conf for {@linkcode NginxConfigOptions}; run nginx in the foreground with it. */
export function nginxConfig(o: NginxConfigOptions): string {
  const dir = o.dir;
  return `
daemon off;
master_process off;
worker_processes 1;
${Deno.uid() === 0 ? "user root;" : ""}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests ${o.keepaliveRequests ?? 100_000};
  ${o.httpExtra ?? ""}
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${o.httpPort};
    listen 127.0.0.1:${o.httpsPort} ssl;
    ssl_certificate ${o.certFile};
    ssl_certificate_key ${o.keyFile};
    root ${dir}/www;
    ${o.serverExtra ?? ""}
  }
}
`;
}
