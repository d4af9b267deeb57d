/* The live layer of every page: one websocket (/ws/inventory/, with the session), a status
   indicator, reconnection with backoff, toasts, and HTMX refreshes of what is on screen.

   How pages take part, with attributes only:
   - data-live-on="stock.changed alert.raised ..."  the element is sent the HTMX trigger
     "live:refresh" when such an event arrives (and after a reconnect or a missed event);
   - data-live-branch="<branch id>"                 ... only for events of that branch;
   - data-live-level="<level id>"                   ... only for events of that level;
     it is also briefly highlighted once refreshed;
   - data-live-product="<product id>"               ... only for events of that product;
   - data-live-transfer="<transfer id>"             ... only for events of that transfer;
   - data-live-every="<milliseconds>"               ... at most once in that time: the first
     event of a burst schedules one refresh, which then shows every event until it runs, so
     a steady stream of events still refreshes (unlike a debounce, which would wait forever);
   - data-live-toast="off" on <body>                no toasts for events on this page.
   Pages may also listen to the DOM event "live:event" (detail: the event) on document.
   A failed HTMX request (network, 5xx) shows an error toast. */
(function () {
  "use strict";
  var body = document.body;
  var status = document.getElementById("live-status");
  var versions = {};   // branch (or "catalog") -> last version seen
  var attempts = 0;
  var socket = null;

  function text(name, fallback) {
    return body.getAttribute("data-text-" + name) || fallback;
  }

  function setStatus(state) {
    if (!status) return;
    status.className = "live-status " + state;
    status.textContent = text(state, state);
  }

  function toast(message, kind) {
    var area = document.getElementById("toasts");
    if (!area || !message) return;
    var item = document.createElement("div");
    item.className = "toast" + (kind ? " " + kind : "");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.textContent = message;
    area.appendChild(item);
    setTimeout(function () {
      item.classList.add("leaving");
      setTimeout(function () { item.remove(); }, 500);
    }, kind === "error" ? 8000 : 5000);
  }
  window.liveToast = toast;

  function fade(area) {
    Array.prototype.forEach.call(area.querySelectorAll(".toast:not(.leaving)"), function (item) {
      setTimeout(function () {
        item.classList.add("leaving");
        setTimeout(function () { item.remove(); }, 500);
      }, 6000);
    });
  }

  function matches(element, event) {
    var types = (element.getAttribute("data-live-on") || "").split(/\s+/);
    if (types.indexOf(event.type) < 0 && types.indexOf("*") < 0) return false;
    var branch = element.getAttribute("data-live-branch");
    if (branch && event.branch && branch !== event.branch) return false;
    var level = element.getAttribute("data-live-level");
    if (level && (!event.data || event.data.level !== level)) return false;
    var product = element.getAttribute("data-live-product");
    if (product && (!event.data || event.data.product !== product)) return false;
    var transfer = element.getAttribute("data-live-transfer");
    if (transfer && (!event.data || event.data.transfer !== transfer)) return false;
    var order = element.getAttribute("data-live-order");
    if (order && (!event.data || event.data.order !== order)) return false;
    return true;
  }

  var scheduled = {};  // element id -> a refresh already waiting (data-live-every)

  function refresh(elements) {
    elements.forEach(function (element) {
      if (!window.htmx || !document.body.contains(element)) return;
      var every = parseInt(element.getAttribute("data-live-every") || "0", 10);
      if (every > 0 && element.id) {
        if (scheduled[element.id]) return;
        scheduled[element.id] = true;
        var id = element.id;
        setTimeout(function () {
          delete scheduled[id];
          // The element may have been swapped meanwhile: its successor has the same id.
          var current = document.getElementById(id);
          if (current) htmx.trigger(current, "live:refresh");
        }, every);
        return;
      }
      if (element.hasAttribute("data-live-level") && element.id) {
        // An outerHTML swap settles on the new element: find it by id once settled.
        var id = element.id;
        document.addEventListener("htmx:afterSettle", function once(settled) {
          var fresh = document.getElementById(id);
          if (!fresh || (settled.target !== fresh && !fresh.contains(settled.target))) return;
          document.removeEventListener("htmx:afterSettle", once);
          fresh.classList.remove("flash");
          void fresh.offsetWidth;
          fresh.classList.add("flash");
        });
      }
      htmx.trigger(element, "live:refresh");
    });
  }

  function refreshAll() {
    refresh(Array.prototype.slice.call(document.querySelectorAll("[data-live-on]")));
  }

  function describe(event) {
    var data = event.data || {};
    if (event.type === "stock.changed") {
      var who = data.actor ? data.actor.name : "";
      return data.name + " " + Number(data.on_hand_before) + " → " + Number(data.on_hand_after) +
        " " + data.unit.toLowerCase() + (who ? " (" + who + ")" : "");
    }
    if (event.type === "alert.raised") return "⚠ " + data.name + ": " + Number(data.on_hand_at_trigger) + " " + "≤ " + Number(data.threshold_at_trigger);
    if (event.type === "transfer.updated") return data.reference + ": " + data.status.toLowerCase().replace("_", " ");
    if (event.type === "purchase_order.updated") return data.reference + ": " + data.status.toLowerCase().replace("_", " ");
    return null;
  }

  function receive(event) {
    if (event.type === "welcome" || event.type === "subscribed") {
      setStatus("connected");
      attempts = 0;
      return;
    }
    if (event.type === "error" || event.type === "pong") return;
    var key = event.branch || "catalog";
    var last = versions[key];
    versions[key] = event.version;
    document.dispatchEvent(new CustomEvent("live:event", { detail: event }));
    if (last !== undefined && event.version > last + 1) {
      refreshAll();  // something was missed: everything live on screen is fetched again
      return;
    }
    var targets = Array.prototype.filter.call(
      document.querySelectorAll("[data-live-on]"), function (element) { return matches(element, event); });
    refresh(targets);
    // What this person just did was already said by the page that did it.
    var mine = event.data && event.data.actor && event.data.actor.id === body.getAttribute("data-user");
    if (body.getAttribute("data-live-toast") !== "off" && !mine) {
      var message = describe(event);
      if (message) toast(message, event.type === "alert.raised" ? "warning" : "");
    }
  }

  function connect() {
    var path = body.getAttribute("data-live-url");
    if (!path || !("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + path);
    socket.onmessage = function (message) {
      try { receive(JSON.parse(message.data)); } catch (error) { /* not ours */ }
    };
    socket.onclose = function (close) {
      socket = null;
      if (close.code === 4401 || close.code === 4403) { setStatus("offline"); return; }
      setStatus(navigator.onLine === false ? "offline" : "reconnecting");
      // 1012 (service restart): that server is stopping and another one is ready, so at
      // once; else backoff with jitter, up to half a minute. What changed meanwhile is
      // fetched again either way.
      var restart = close.code === 1012;
      attempts = restart ? 0 : attempts + 1;
      var delay = restart ? 0 : Math.min(30000, 500 * Math.pow(2, attempts)) * (0.5 + Math.random() / 2);
      setTimeout(function () { connect(); versions = {}; refreshAll(); }, delay);
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.getElementById("toasts");
    if (area) fade(area);
    connect();
  });
  // Back to a page from the history: its forms are ready again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
      form.querySelectorAll("button").forEach(function (button) { button.disabled = false; button.removeAttribute("aria-busy"); });
    });
  });
  window.addEventListener("online", function () { if (!socket) { attempts = 0; connect(); } });

  // The navigation's menu closes on a click elsewhere or on Escape, as menus do.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.navmore[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.navmore[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });

  // Forms: a button stays disabled while its request is in flight (HTMX or not).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get") || form.method === "get") return;
    if (form.dataset.submitting) { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit], button:not([type])"), function (button) {
      setTimeout(function () { button.disabled = true; button.setAttribute("aria-busy", "true"); }, 0);
    });
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    // A lookup (a GET) from inside a write form, such as a search as you type, leaves its
    // buttons alone: only the write itself is in flight.
    var verb = (event.detail.requestConfig && event.detail.requestConfig.verb) || "";
    if (verb.toLowerCase() === "get") return;
    var form = event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    if (form && form.getAttribute("method") !== "get") {
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); });
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var verb = (event.detail.requestConfig && event.detail.requestConfig.verb) || "";
    if (verb.toLowerCase() === "get") return;
    var form = event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    if (form) form.querySelectorAll("button").forEach(function (button) { button.disabled = false; button.removeAttribute("aria-busy"); });
  });
  // HTMX swaps 4xx answers too (they carry the form with its errors); a 5xx or a network
  // failure is said in a toast instead of silently doing nothing.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var code = event.detail.xhr.status;
    if (code >= 400 && code < 500) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status >= 500) toast(text("failed", "That did not work."), "error");
  });
  document.addEventListener("htmx:sendError", function () { toast(text("failed", "That did not work."), "error"); });
  document.addEventListener("htmx:afterSettle", function () {
    var area = document.getElementById("toasts");
    if (area) fade(area);
  });
})();
