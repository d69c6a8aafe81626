//! # Keyword support
//!
//! Every keyword the loader recognizes, and what it does with it:
//!
//! - **supported**: parsed, checked and kept in the typed model;
//! - **ignored**: recognized and accepted, kept as words in the model's
//!   `ignored` list, with a warning saying it is not implemented yet;
//! - **rejected**: refused with an error (keywords HAProxy 2.6 removed).
//!
//! Any other keyword is an error naming the file, line, column, section and the
//! nearest known keyword. A unit test checks these tables against the parser's.
//!
//! Sections: `global`, `defaults` (named and anonymous, with `from`),
//! `frontend`, `backend`, `listen`, `userlist` and `http-errors` are
//! supported. `resolvers`, `peers`, `cache`, `program`, `ring`, `mailers` and
//! `fcgi-app` are recognized and skipped with a warning. In `userlist`: `user`
//! (with `password`, `insecure-password`, `groups`) and `group` (with
//! `users`). In `http-errors`: `errorfile CODE FILE`, imported by a proxy's
//! `errorfiles NAME [CODE...]` at the place of that line (a later `errorfile`
//! or `errorloc` of the same code wins, an earlier one loses), whether the
//! section comes before or after the proxy.
//!
//! Lexical rules: `#` starts a comment anywhere outside quotes; backslash
//! escapes (`\ `, `\#`, `\\`, `\"`, `\'`, `\$`, `\t`, `\n`, `\r`, `\xHH`);
//! single quotes keep everything literally; double quotes allow escapes and
//! expand `${VAR}` and `${VAR-default}` (an unset variable without default is
//! empty). `setenv`, `presetenv`, `unsetenv` and `resetenv` in `global`
//! change what the expansions of every later line see, in later files too, as
//! HAProxy's process environment does. A file whose last line has no line
//! feed is refused, as HAProxy refuses it. Time values take `us`, `ms`, `s`,
//! `m`, `h`, `d` (default `ms`).
//!
//! Lenient values: where HAProxy 2.6 is lenient, the loader accepts the same
//! values but warns at the word's position with the value really used, so that
//! a verdict never differs from `haproxy -c` and nobody is misled. This covers
//! characters after a time unit (`5sec` is 5s, `5min` five minutes) and the
//! numbers HAProxy reads with `atol()` (`retries three` is 0; a server's
//! `maxconn`, `maxqueue`, `minconn`, `weight` without value are 0; `rise`,
//! `fall`, `port`, global and proxy `maxconn` read leading digits), and
//! userlist users with an empty or no password.
//!
//! Checks over the whole configuration, once every file is read: backend
//! references, `check` on a server with no port to check, userlist members,
//! HAProxy's "missing timeouts" and "log format ignored" warnings. [`crate::load`]
//! then resolves server host names (an error unless `init-addr` allows `none`).
//!
//! A keyword used in a proxy lacking the capability it needs is ignored with
//! a warning, as HAProxy does, except `server`, `default-server` and
//! `server-template`, which are errors there.
//!
//! ## `global`
//!
//! | keyword | status |
//! |---|---|
//! | `log` | supported |
//! | `chroot` | supported |
//! | `pidfile` | supported |
//! | `maxconn` | supported |
//! | `user` | supported |
//! | `group` | supported |
//! | `daemon` | supported |
//! | `nbthread` | supported |
//! | `stats` | supported |
//! | `uid` | supported |
//! | `gid` | supported |
//! | `ca-base` | ignored |
//! | `crt-base` | ignored |
//! | `ssl-default-bind-ciphers` | ignored |
//! | `ssl-default-bind-ciphersuites` | ignored |
//! | `ssl-default-bind-options` | ignored |
//! | `ssl-default-server-ciphers` | ignored |
//! | `ssl-default-server-ciphersuites` | ignored |
//! | `ssl-default-server-options` | ignored |
//! | `ssl-dh-param-file` | ignored |
//! | `ssl-server-verify` | ignored |
//! | `spread-checks` | ignored |
//! | `hard-stop-after` | ignored |
//! | `node` | ignored |
//! | `description` | ignored |
//! | `localpeer` | ignored |
//! | `master-worker` | ignored |
//! | `quiet` | ignored |
//! | `setenv` | supported |
//! | `presetenv` | supported |
//! | `unsetenv` | supported |
//! | `resetenv` | supported |
//! | `lua-load` | ignored |
//! | `log-send-hostname` | supported |
//! | `log-tag` | supported |
//! | `server-state-file` | ignored |
//! | `server-state-base` | ignored |
//! | `maxsslconn` | ignored |
//! | `ulimit-n` | ignored |
//! | `cpu-map` | ignored |
//! | `busy-polling` | ignored |
//! | `insecure-fork-wanted` | ignored |
//! | `expose-experimental-directives` | ignored |
//! | `h1-case-adjust` | supported |
//! | `h1-case-adjust-file` | supported |
//! | `tune.bufsize` | ignored |
//! | `tune.maxrewrite` | ignored |
//! | `tune.ssl.default-dh-param` | ignored |
//! | `tune.ssl.cachesize` | ignored |
//! | `tune.http.maxhdr` | ignored |
//! | `nbproc` | rejected |
//! | `tune.*` | ignored |
//!
//! `stats socket` and `stats timeout` are supported; `stats maxconn` and
//! `stats bind-process` are ignored.
//!
//! ## Proxies
//!
//! | keyword | allowed in | status |
//! |---|---|---|
//! | `mode` | defaults, frontend, backend | supported |
//! | `log` | defaults, frontend, backend | supported |
//! | `option` | defaults, frontend, backend | supported |
//! | `retries` | defaults, backend | supported |
//! | `retry-on` | defaults, backend | supported |
//! | `timeout` | defaults, frontend, backend | supported |
//! | `maxconn` | defaults, frontend | supported |
//! | `bind` | frontend | supported |
//! | `stats` | defaults, frontend, backend | supported |
//! | `capture` | frontend | supported |
//! | `acl` | named defaults (ignored), frontend, backend | supported |
//! | `use_backend` | frontend | supported |
//! | `default_backend` | defaults, frontend | supported |
//! | `balance` | defaults, backend | supported |
//! | `hash-type` | defaults, backend | supported |
//! | `cookie` | defaults, backend | supported |
//! | `default-server` | defaults, backend | supported |
//! | `server` | backend | supported |
//! | `http-request` | named defaults (ignored), frontend, backend | supported |
//! | `http-response` | named defaults (ignored), frontend, backend | supported |
//! | `http-check` | defaults, backend | supported |
//! | `errorfile` | defaults, frontend, backend | supported |
//! | `description` | frontend, backend | ignored |
//! | `fullconn` | defaults, backend | ignored |
//! | `monitor-uri` | defaults, frontend | supported |
//! | `monitor` | frontend | supported |
//! | `tcp-request` | named defaults (ignored), frontend, backend | ignored |
//! | `tcp-response` | named defaults (ignored), backend | ignored |
//! | `http-after-response` | named defaults (ignored), frontend, backend | ignored |
//! | `http-reuse` | defaults, backend | ignored |
//! | `compression` | defaults, frontend, backend | ignored |
//! | `rate-limit` | defaults, frontend | ignored |
//! | `redirect` | frontend, backend | ignored |
//! | `unique-id-format` | defaults, frontend | ignored |
//! | `unique-id-header` | defaults, frontend | ignored |
//! | `log-format` | defaults, frontend | supported |
//! | `log-format-sd` | defaults, frontend | ignored |
//! | `log-tag` | defaults, frontend, backend | supported |
//! | `errorloc` | defaults, frontend, backend | supported |
//! | `errorloc302` | defaults, frontend, backend | supported |
//! | `errorloc303` | defaults, frontend, backend | supported |
//! | `errorfiles` | defaults, frontend, backend | supported |
//! | `http-error` | defaults, frontend, backend | ignored |
//! | `source` | defaults, backend | ignored |
//! | `stick-table` | frontend, backend | ignored |
//! | `stick` | backend | ignored |
//! | `force-persist` | frontend, backend | ignored |
//! | `ignore-persist` | frontend, backend | ignored |
//! | `persist` | defaults, backend | ignored |
//! | `dispatch` | backend | ignored |
//! | `filter` | frontend, backend | ignored |
//! | `id` | frontend, backend | ignored |
//! | `disabled` | defaults, frontend, backend | ignored |
//! | `enabled` | defaults, frontend, backend | ignored |
//! | `backlog` | defaults, frontend | ignored |
//! | `grace` | defaults, frontend, backend | ignored |
//! | `server-template` | backend | ignored |
//! | `use-server` | backend | ignored |
//! | `tcp-check` | defaults, backend | ignored |
//! | `external-check` | defaults, backend | ignored |
//! | `email-alert` | defaults, frontend, backend | ignored |
//! | `declare` | frontend, backend | ignored |
//! | `dynamic-cookie-key` | defaults, backend | ignored |
//! | `max-keep-alive-queue` | defaults, backend | ignored |
//! | `reqadd` | frontend, backend | rejected |
//! | `reqrep` | frontend, backend | rejected |
//! | `rspadd` | frontend, backend | rejected |
//! | `block` | frontend, backend | rejected |
//!
//! `no log` clears inherited log targets; `no option X` negates an option,
//! except for the options HAProxy refuses to negate (`httplog`, `tcplog`,
//! `httpslog`, `forwardfor`, `originalto`, `tcpka` and the health-check
//! options such as `httpchk`), which are errors as in HAProxy.
//! `stats` takes `enable`, `uri`, `realm`, `auth`, `admin if|unless COND`,
//! `hide-version`, `refresh`, `show-legends`, `show-node`, `show-desc` and
//! `scope`. `capture cookie` is ignored. `http-request` / `http-response`
//! type `set-header`, `add-header`, `del-header`, `replace-header`,
//! `set-path`, `set-query`, `redirect`, `deny [deny_status N]`, `allow`,
//! `return`, `set-var(NAME)` and `use-service`; other known actions are kept
//! as words.
//!
//! ## Options
//!
//! | option | allowed in | status |
//! |---|---|---|
//! | `httplog` | defaults, frontend | supported |
//! | `tcplog` | defaults, frontend, backend | supported |
//! | `httpslog` | defaults, frontend | ignored |
//! | `dontlognull` | defaults, frontend | supported |
//! | `http-server-close` | defaults, frontend, backend | supported |
//! | `httpclose` | defaults, frontend, backend | supported |
//! | `http-keep-alive` | defaults, frontend, backend | supported |
//! | `forwardfor` | defaults, frontend, backend | supported |
//! | `redispatch` | defaults, backend | supported |
//! | `abortonclose` | defaults, backend | supported |
//! | `logasap` | defaults, frontend | supported |
//! | `httpchk` | defaults, backend | supported |
//! | `allbackups` | defaults, backend | supported |
//! | `h1-case-adjust-bogus-client` | defaults, frontend | supported |
//! | `h1-case-adjust-bogus-server` | defaults, backend | supported |
//! | `accept-invalid-http-request` | defaults, frontend | ignored |
//! | `accept-invalid-http-response` | defaults, backend | ignored |
//! | `checkcache` | defaults, backend | ignored |
//! | `clitcpka` | defaults, frontend | ignored |
//! | `contstats` | defaults, frontend | ignored |
//! | `dontlog-normal` | defaults, frontend | ignored |
//! | `http-buffer-request` | defaults, frontend, backend | ignored |
//! | `http-ignore-probes` | defaults, frontend | ignored |
//! | `http-no-delay` | defaults, frontend, backend | ignored |
//! | `http-pretend-keepalive` | defaults, frontend, backend | ignored |
//! | `http-use-proxy-header` | defaults, frontend | ignored |
//! | `http_proxy` | defaults, frontend, backend | rejected |
//! | `forceclose` | defaults, frontend, backend | rejected |
//! | `independent-streams` | defaults, frontend, backend | ignored |
//! | `ldap-check` | defaults, backend | ignored |
//! | `external-check` | defaults, backend | ignored |
//! | `log-health-checks` | defaults, backend | ignored |
//! | `log-separate-errors` | defaults, frontend | ignored |
//! | `mysql-check` | defaults, backend | ignored |
//! | `nolinger` | defaults, frontend, backend | ignored |
//! | `originalto` | defaults, frontend, backend | ignored |
//! | `persist` | defaults, backend | ignored |
//! | `pgsql-check` | defaults, backend | ignored |
//! | `prefer-last-server` | defaults, backend | ignored |
//! | `redis-check` | defaults, backend | ignored |
//! | `smtpchk` | defaults, backend | ignored |
//! | `socket-stats` | defaults, frontend | ignored |
//! | `splice-auto` | defaults, frontend, backend | ignored |
//! | `splice-request` | defaults, frontend, backend | ignored |
//! | `splice-response` | defaults, frontend, backend | ignored |
//! | `srvtcpka` | defaults, backend | ignored |
//! | `ssl-hello-chk` | defaults, backend | ignored |
//! | `tcp-check` | defaults, backend | ignored |
//! | `tcp-smart-accept` | defaults, frontend | ignored |
//! | `tcp-smart-connect` | defaults, backend | ignored |
//! | `tcpka` | defaults, frontend, backend | ignored |
//! | `transparent` | defaults, backend | ignored |
//! | `idle-close-on-response` | defaults, frontend | ignored |
//! | `disable-h2-upgrade` | defaults, frontend | ignored |
//!
//! ## Bind and server options
//!
//! Typed bind options: `name`, `ssl`, `crt`, `alpn`, `accept-proxy`,
//! `transparent`, `v4v6`, `v6only`, `maxconn`, `interface` (and `mode`,
//! `level` on `stats socket`). Typed server options: `check`, `inter`,
//! `fastinter`, `downinter`, `rise`, `fall`, `port`, `addr`, `weight`,
//! `maxconn`, `maxqueue`, `minconn`, `backup`, `disabled`, `enabled`,
//! `cookie`, `send-proxy`, `send-proxy-v2`, `ssl`, `verify`, `sni`,
//! `slowstart`, `on-marked-down` and their `no-` forms. The other options
//! HAProxy 2.6 knows are kept as name and argument with a warning; unknown
//! ones are errors.
