// Preloaded (`node -r`) into Learning Locker's statement service by the pytest fixture.
// xapi-statements calls `app.listen(port)`, which binds every interface, and has no setting
// for the host; a test peer must listen on 127.0.0.1 only, so force the host here.
'use strict';
const http = require('http');
const originalListen = http.Server.prototype.listen;
http.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    const port = Number(args[0]);
    const callback = args.find((arg) => typeof arg === 'function');
    return originalListen.call(this, port, '127.0.0.1', callback);
  }
  if (args[0] !== null && typeof args[0] === 'object') {
    return originalListen.call(this, { ...args[0], host: '127.0.0.1' }, ...args.slice(1));
  }
  return originalListen.apply(this, args);
};
