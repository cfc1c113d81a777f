(function () {
  'use strict';
  // Inserted by the inverting proxy's agent: this page is served through a proxy that cannot carry
  // WebSocket upgrades, so WebSockets to this page's own host are spoken over plain HTTP requests to
  // the agent's shim endpoints instead (open, data, poll, close). Other hosts keep the real WebSocket.
  if (window.__invertingProxyWebSocketShim) {
    return;
  }
  var NativeWebSocket = window.WebSocket;
  var SHIM = location.protocol + '//' + location.host + '/' + __SHIM_PATH__ + '/';
  var VERSION = '1';
  var MAX_POLL_FAILURES = 5;

  function call(action, body, extraHeaders) {
    var headers = { 'X-Websocket-Shim-Version': VERSION, 'Content-Type': 'text/plain;charset=UTF-8' };
    if (extraHeaders) {
      for (var name in extraHeaders) {
        headers[name] = extraHeaders[name];
      }
    }
    return fetch(SHIM + action, {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: headers,
      body: typeof body === 'string' ? body : JSON.stringify(body)
    });
  }

  function toBase64(bytes) {
    var parts = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return btoa(parts.join(''));
  }

  function fromBase64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function byteLength(data) {
    if (typeof data === 'string') {
      return new TextEncoder().encode(data).length;
    }
    return data.byteLength !== undefined ? data.byteLength : data.size;
  }

  function resolve(url) {
    var u = new URL(url, location.href);
    if (u.protocol === 'http:') {
      u.protocol = 'ws:';
    } else if (u.protocol === 'https:') {
      u.protocol = 'wss:';
    }
    return u;
  }

  function ShimWebSocket(url, protocols) {
    var target;
    try {
      target = resolve(url);
    } catch (e) {
      throw new DOMException("Failed to construct 'WebSocket': The URL '" + url + "' is invalid.", 'SyntaxError');
    }
    if (target.host !== location.host) {
      return protocols === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, protocols);
    }
    var self = this;
    var events = document.createDocumentFragment();
    var asked = protocols === undefined ? [] : (typeof protocols === 'string' ? [protocols] : Array.from(protocols));
    var id = null;
    var readyState = 0;
    var protocol = '';
    var binaryType = 'blob';
    var outbox = [];
    var sending = false;
    var buffered = 0;
    var closeSent = false;
    var handlers = { open: null, message: null, error: null, close: null };

    ['addEventListener', 'removeEventListener', 'dispatchEvent'].forEach(function (m) {
      self[m] = events[m].bind(events);
    });
    Object.keys(handlers).forEach(function (type) {
      Object.defineProperty(self, 'on' + type, {
        get: function () { return handlers[type]; },
        set: function (f) { handlers[type] = typeof f === 'function' ? f : null; }
      });
      events.addEventListener(type, function (e) {
        if (handlers[type]) {
          handlers[type].call(self, e);
        }
      });
    });
    Object.defineProperties(self, {
      url: { get: function () { return target.href; } },
      readyState: { get: function () { return readyState; } },
      protocol: { get: function () { return protocol; } },
      extensions: { get: function () { return ''; } },
      bufferedAmount: { get: function () { return buffered; } },
      binaryType: {
        get: function () { return binaryType; },
        set: function (t) { if (t === 'blob' || t === 'arraybuffer') { binaryType = t; } }
      }
    });

    function fire(event) {
      Object.defineProperty(event, 'target', { value: self });
      Object.defineProperty(event, 'currentTarget', { value: self });
      events.dispatchEvent(event);
    }

    function finish(code, reason, clean) {
      if (readyState === 3) {
        return;
      }
      readyState = 3;
      fire(new CloseEvent('close', { code: code, reason: reason || '', wasClean: clean }));
    }

    function fail() {
      if (readyState === 3) {
        return;
      }
      fire(new Event('error'));
      finish(1006, '', false);
    }

    function deliver(messages) {
      messages.forEach(function (m) {
        if (readyState !== 1) {
          return;
        }
        var data = m;
        if (Array.isArray(m)) {
          var bytes = fromBase64(m[0]);
          data = binaryType === 'arraybuffer' ? bytes.buffer : new Blob([bytes]);
        }
        fire(new MessageEvent('message', { data: data, origin: target.origin }));
      });
    }

    function poll(failures) {
      if (readyState !== 1) {
        return;
      }
      call('poll', { id: id }).then(function (response) {
        // Once the page began closing, its close call decides the close event, not a poll that
        // finds the session already gone.
        if (closeSent) {
          return;
        }
        if (response.status === 200) {
          return response.json().then(function (messages) {
            deliver(messages);
            poll(0);
          });
        }
        if (response.status === 408) {
          poll(0);
          return;
        }
        if (response.status === 400) {
          var code = parseInt(response.headers.get('X-Websocket-Shim-Close-Code') || '1006', 10);
          var reason = decodeURIComponent(response.headers.get('X-Websocket-Shim-Close-Reason') || '');
          if (code === 1006) {
            fire(new Event('error'));
          }
          finish(code === 1005 ? 1000 : code, reason, code !== 1006);
          return;
        }
        throw new Error('poll answered ' + response.status);
      }).catch(function () {
        if (closeSent) {
          return;
        }
        if (failures + 1 >= MAX_POLL_FAILURES) {
          fail();
        } else {
          setTimeout(function () { poll(failures + 1); }, 200 * (failures + 1));
        }
      });
    }

    function encode(data) {
      if (typeof data === 'string') {
        return Promise.resolve(data);
      }
      if (data instanceof Blob) {
        return data.arrayBuffer().then(function (b) { return [toBase64(new Uint8Array(b))]; });
      }
      if (ArrayBuffer.isView(data)) {
        return Promise.resolve([toBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))]);
      }
      return Promise.resolve([toBase64(new Uint8Array(data))]);
    }

    function flush() {
      if (sending || outbox.length === 0 || readyState !== 1) {
        return;
      }
      sending = true;
      var batch = outbox;
      outbox = [];
      Promise.all(batch.map(function (item) { return item.encoded; })).then(function (encoded) {
        var body = encoded.map(function (msg) { return { id: id, msg: msg }; });
        return call('data', body).then(function (response) {
          batch.forEach(function (item) { buffered -= item.size; });
          if (response.status !== 200) {
            fail();
          }
        });
      }).catch(fail).then(function () {
        sending = false;
        flush();
      });
    }

    self.send = function (data) {
      if (readyState === 0) {
        throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
      }
      if (readyState !== 1) {
        return;
      }
      var size = byteLength(data);
      buffered += size;
      outbox.push({ encoded: encode(data), size: size });
      flush();
    };

    self.close = function (code, reason) {
      if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
        throw new DOMException("Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999.", 'InvalidAccessError');
      }
      if (readyState >= 2 || closeSent) {
        return;
      }
      if (readyState === 0) {
        readyState = 2;
        closeSent = true;
        return;
      }
      readyState = 2;
      closeSent = true;
      var request = { id: id };
      if (code !== undefined) {
        request.code = code;
      }
      if (reason !== undefined) {
        request.reason = String(reason);
      }
      call('close', request).then(function () {
        finish(code === undefined ? 1005 : code, reason, true);
      }, function () {
        finish(1006, '', false);
      });
    };

    var openHeaders = asked.length ? { 'X-Websocket-Shim-Protocols': asked.join(', ') } : null;
    call('open', target.href, openHeaders).then(function (response) {
      if (response.status !== 200) {
        throw new Error('open answered ' + response.status);
      }
      return response.json();
    }).then(function (answer) {
      id = answer.id;
      protocol = answer.s || '';
      if (readyState === 2) {
        call('close', { id: id });
        finish(1006, '', false);
        return;
      }
      readyState = 1;
      fire(new Event('open'));
      poll(0);
      flush();
    }).catch(fail);
  }

  ShimWebSocket.CONNECTING = ShimWebSocket.prototype.CONNECTING = 0;
  ShimWebSocket.OPEN = ShimWebSocket.prototype.OPEN = 1;
  ShimWebSocket.CLOSING = ShimWebSocket.prototype.CLOSING = 2;
  ShimWebSocket.CLOSED = ShimWebSocket.prototype.CLOSED = 3;
  window.__invertingProxyWebSocketShim = true;
  window.nativeWebSocket = NativeWebSocket;
  window.WebSocket = ShimWebSocket;
})();
