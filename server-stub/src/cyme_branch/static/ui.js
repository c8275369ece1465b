// The admin page of a Cyme branch (GET /ui): what ui.py inlines after uPlot.
//
// Everything it shows it reads through the branch's API, and everything it
// does it asks of the API, with the token the visitor gave (kept in this
// tab's sessionStorage, sent as `Authorization: Bearer`, never in a URL).
//
// Live: every POLL_MS it reads the apps, and each app's instances and
// queues with `?details=true`, sending back the ETag of the last answer in
// `If-None-Match`; an answer that did not change is a 304 without a body,
// and nothing is drawn again (docs/benchmarks.md: why polling, and what it
// costs). Each poll is also a sample of the charts: queue depth and pool
// size over the last HISTORY_S seconds the page has been open.
//
// Cluster: a read is a list of parts, one per branch ({branch, url, state,
// detail, items}). A branch that answers `GET /?scope=cluster` with a
// ClusterList is read cluster-wide, each part as its member answered;
// otherwise the page reads this branch alone, as one part.
(function () {
  "use strict";

  const TOKEN_KEY = "cyme.token";
  const POLL_MS = 1000;
  const BRANCHES_EVERY = 10; // polls between two reads of the branches
  const HISTORY_S = 600;
  const COLOURS = ["#1f5fa8", "#b3401d", "#2e7d32", "#6a3d9a", "#8a6d00", "#00798c", "#c2185b"];

  const $ = (selector, root) => (root || document).querySelector(selector);
  const enc = encodeURIComponent;

  // -- the API ------------------------------------------------------------------------

  class Unauthorized extends Error {}

  const tags = new Map(); // URL -> {etag, body}: the last answer of a polled read

  function headers(extra) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const found = Object.assign({Accept: "application/json"}, extra || {});
    if (token) found.Authorization = "Bearer " + token;
    return found;
  }

  // One call: {status, body} (body: parsed JSON, or null); Unauthorized on 401.
  async function call(method, path, body) {
    const init = {method: method, cache: "no-store", redirect: "error"};
    init.headers = headers(body === undefined ? {} : {"Content-Type": "application/json"});
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(path, init);
    if (response.status === 401) throw new Unauthorized();
    const text = await response.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = {detail: text}; }
    return {status: response.status, body: parsed};
  }

  // A polled read: {changed, body}; the cached body when the branch says 304.
  async function read(path) {
    const last = tags.get(path);
    const init = {cache: "no-store", redirect: "error"};
    init.headers = headers(last ? {"If-None-Match": last.etag} : {});
    const response = await fetch(path, init);
    if (response.status === 401) throw new Unauthorized();
    if (response.status === 304 && last) return {changed: false, body: last.body};
    const body = await response.json();
    if (!response.ok) throw new Error((body && body.detail) || "HTTP " + response.status);
    const etag = response.headers.get("ETag");
    if (etag) tags.set(path, {etag: etag, body: body});
    return {changed: true, body: body};
  }

  // -- what the branch holds, as parts per branch -------------------------------------------

  // members: the branches the table shows; answering: who answered the last
  // read of the apps, and how (a change has the branches read again).
  const model = {self: null, cluster: false, apps: [], views: new Map(), members: [],
    answering: null};

  function onePart(items) {
    return [{branch: model.self, url: location.origin + "/", state: "ok", items: items}];
  }

  async function readParts(path) {
    if (!model.cluster) {
      const found = await read(path);
      return {changed: found.changed, parts: onePart(found.body)};
    }
    const found = await read(path + scope(path.indexOf("?") < 0 ? "?" : "&"));
    return {changed: found.changed, parts: found.body.branches, stale: !!found.body.stale};
  }

  // `?scope=cluster` (after `sep`) when the page reads a cluster, else nothing.
  function scope(sep) {
    return model.cluster ? sep + "scope=cluster" : "";
  }

  async function detectCluster() {
    try {
      const answer = await call("GET", "/?scope=cluster");
      model.cluster = answer.status === 200 && !!answer.body && answer.body.scope === "cluster";
    } catch (e) {
      if (e instanceof Unauthorized) throw e;
      model.cluster = false;
    }
  }

  function appNames(parts) {
    const names = new Set();
    for (const part of parts) for (const name of part.items || []) names.add(name);
    return Array.from(names).sort();
  }

  // -- elements -------------------------------------------------------------------------------

  let serial = 0;

  function h(tag, attributes, children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "text") element.textContent = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else if (value === true) element.setAttribute(name, "");
      else if (value !== false && value !== null && value !== undefined) {
        element.setAttribute(name, value);
      }
    }
    for (const child of children || []) if (child) element.append(child);
    return element;
  }

  // A labelled input whose 422 errors show beside it (data-field: the API's field).
  function field(label, name, attributes) {
    const id = "f" + (++serial);
    const own = {id: id, "data-field": name, "aria-describedby": id + "-error"};
    const input = h("input", Object.assign(own, attributes));
    return h("div", {class: "field"}, [
      h("label", {for: id, text: label}), input, h("span", {class: "error", id: id + "-error"}),
    ]);
  }

  function form(name, children, submit) {
    const element = h("form", {class: "inline", "data-form": name, novalidate: true}, children);
    element.append(h("p", {class: "message", role: "alert"}));
    element.addEventListener("submit", (event) => {
      event.preventDefault();
      act(element, () => submit(element));
    });
    return element;
  }

  function value(formElement, name) {
    const input = formElement.querySelector('[data-field="' + name + '"]');
    return input ? input.value.trim() : "";
  }

  function clearErrors(formElement) {
    for (const input of formElement.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
    }
    for (const span of formElement.querySelectorAll(".error, .message")) span.textContent = "";
  }

  // A problem document shown in its form: each 422 field error beside its field.
  function showProblem(formElement, problem) {
    const left = [];
    for (const error of problem.errors || []) {
      const input = formElement.querySelector('[data-field="' + error.field + '"]');
      if (!input) { left.push(error.field + ": " + error.message); continue; }
      input.setAttribute("aria-invalid", "true");
      $("#" + input.id + "-error").textContent = error.message;
    }
    const message = $(".message", formElement);
    if (!problem.errors || left.length) {
      message.textContent = left.join("; ") || problem.detail || problem.title;
    }
  }

  // Runs an action of a form or button; its problem shows in `where`.
  async function act(where, action) {
    clearErrors(where);
    where.setAttribute("aria-busy", "true");
    try {
      const answer = await action();
      if (answer && answer.status >= 400) showProblem(where, answer.body || {});
      else if (where.tagName === "FORM") where.reset();
    } catch (e) {
      if (e instanceof Unauthorized) return loggedOut("The token was refused.");
      $(".message", where).textContent = String(e.message || e);
    } finally {
      where.removeAttribute("aria-busy");
    }
    poll();
  }

  // A field the page needs before it asks anything, refused as a 422 would be.
  function unnamed(name, message) {
    return {status: 422, body: {errors: [{field: name, message: message}]}};
  }

  function numberOrUndefined(text) {
    return text === "" ? undefined : (/^-?\d+$/.test(text) ? Number(text) : text);
  }

  // -- branches ---------------------------------------------------------------------------

  async function readBranches() {
    const listed = (await call("GET", "/branches")).body || [];
    model.self = model.self || listed[0];
    // A member that left the list (lost: killed, or out of reach) is still
    // described by this branch until it forgets it: shown lost, not dropped.
    const ids = listed.concat(model.members.filter((id) => !listed.includes(id)));
    const described = await Promise.all(ids.map((id) => call("GET", "/branches/" + enc(id))));
    model.members = ids.filter((id, i) => listed.includes(id) || described[i].status === 200);
    const rows = $("#branch-rows");
    rows.replaceChildren();
    ids.forEach((id, i) => {
      if (!model.members.includes(id)) return;
      const answer = described[i];
      const ok = answer.status === 200;
      const branch = ok ? answer.body : {};
      const state = ok ? (branch.state || "ok") : "unreachable";
      const url = ok ? branch.url : "";
      const why = (answer.body && answer.body.detail) || answer.status;
      const link = url && id !== model.self ? h("a", {href: url + "ui", text: url}) : url;
      rows.append(h("tr", {"data-branch": id}, [
        h("th", {scope: "row", text: id + (id === model.self ? " (this branch)" : "")}),
        h("td", {}, [link]),
        h("td", {text: branch.supervisor || "—"}),
        h("td", {class: "state " + state, text: ok ? state : "unreachable: " + why}),
      ]));
    });
    $("#branch-name").textContent = model.self || "";
    document.title = "Cyme admin: " + (model.self || "");
  }

  // -- an app's view ----------------------------------------------------------------------

  function appView(name) {
    let view = model.views.get(name);
    if (view) return view;
    const id = "app-" + (++serial);
    view = {name: name, rows: new Map(), history: {t: [], series: new Map()}, charts: {}};
    const queueRows = h("tbody");
    const instanceRows = h("tbody");
    const deleteButton = h("button", {type: "button", class: "danger", text: "Delete app"});
    const actions = h("form", {class: "inline", "data-form": "app-actions", novalidate: true}, [
      deleteButton, h("p", {class: "message", role: "alert"}),
    ]);
    deleteButton.addEventListener("click", () => confirmThen(deleteButton,
      "Delete app " + name + "?",
      () => act(actions, () => call("DELETE", "/" + enc(name) + scope("?")))));
    const placement = model.cluster ? field("On branch", "branch", {placeholder: "any"}) : null;
    const addInstance = form("add-instance", [
      field("Instance name", "instance", {placeholder: "generated"}),
      field("Pool", "pool", {placeholder: "prefork"}),
      placement,
      h("button", {type: "submit", text: "Add instance"}),
    ], (f) => {
      const instance = value(f, "instance");
      const member = value(f, "branch");
      // The cluster places only instances it names (a named create is this
      // branch's own, and would ignore the member chosen).
      if (instance && member && member !== model.self) {
        return unnamed("instance", "leave it empty: the cluster names what it places");
      }
      const body = {};
      if (value(f, "pool")) body.pool = value(f, "pool");
      let path = "/" + enc(name) + "/instances" + (instance ? "/" + enc(instance) : "");
      // The cluster places it, on the member named or on the least loaded.
      if (!instance) path += scope("?") + (member ? "&branch=" + enc(member) : "");
      return call("POST", path, body);
    });
    view.section = h("section", {class: "app", "data-app": name, "aria-labelledby": id}, [
      h("h2", {id: id, text: name}),
      actions,
      addInstance,
      h("h3", {text: "Instances"}),
      h("table", {class: "instances"}, [h("thead", {}, [h("tr", {}, [
        "Instance", "Branch", "State", "Pool", "Queues", "Restarts", "Last exit", "Actions",
      ].map((title) => h("th", {scope: "col", text: title})))]), instanceRows]),
      h("h3", {text: "Queues"}),
      h("table", {class: "queues"}, [h("thead", {}, [h("tr", {}, [
        "Queue", "Branch", "Messages", "Consumers",
      ].map((title) => h("th", {scope: "col", text: title})))]), queueRows]),
      h("div", {class: "charts"}, [
        chartBox(view, "depth", "Queue depth (messages) over the last minutes"),
        chartBox(view, "pool", "Pool size (processes) over the last minutes"),
      ]),
    ]);
    view.queueRows = queueRows;
    view.instanceRows = instanceRows;
    model.views.set(name, view);
    return view;
  }

  // A button whose action needs a second click within 5 s (a deletion).
  function confirmThen(button, question, action) {
    const settle = () => {
      delete button.dataset.confirming;
      button.textContent = button.dataset.label;
    };
    if (button.dataset.confirming) { settle(); return action(); }
    button.dataset.label = button.textContent;
    button.dataset.confirming = "1";
    button.textContent = "Confirm: " + question;
    setTimeout(() => { if (button.dataset.confirming) settle(); }, 5000);
  }

  function instancePath(app, name) {
    return "/" + enc(app) + "/instances/" + enc(name);
  }

  function instanceRow(view, part, instance) {
    const app = view.name;
    const local = part.branch === model.self;
    const cells = {};
    for (const column of ["name", "branch", "state", "pool", "queues", "restarts", "exit"]) {
      const heading = column === "name";
      cells[column] = h(heading ? "th" : "td", {"data-col": column, scope: heading ? "row" : null});
    }
    const tools = h("td", {"data-col": "actions"});
    if (!local) {
      tools.append(h("a", {href: part.url + "ui", text: "Act on its branch"}));
    } else {
      const path = instancePath(app, instance.name);
      const buttons = h("form", {class: "inline", "data-form": "levers", novalidate: true});
      const lever = (label, method, suffix) => {
        const button = h("button", {type: "button", "data-action": label.toLowerCase(),
          text: label});
        button.addEventListener("click", () => act(buttons, () => call(method, path + suffix)));
        return button;
      };
      const remove = h("button", {type: "button", class: "danger", "data-action": "delete",
        text: "Delete"});
      remove.addEventListener("click", () => confirmThen(remove, "delete?",
        () => act(buttons, () => call("DELETE", path))));
      buttons.append(lever("Restart", "POST", "/restart"), lever("Disable", "POST", "/disable"),
        lever("Enable", "POST", "/enable"), remove, h("p", {class: "message", role: "alert"}));
      const autoscale = form("autoscale", [
        field("Min", "min", {inputmode: "numeric", size: "4"}),
        field("Max", "max", {inputmode: "numeric", size: "4"}),
        h("button", {type: "submit", text: "Set autoscale"}),
      ], (f) => call("PUT", path + "/autoscale",
        {min: numberOrUndefined(value(f, "min")), max: numberOrUndefined(value(f, "max"))}));
      const consume = form("consume", [
        field("Queue", "queue", {size: "10"}),
        h("button", {type: "submit", text: "Consume"}),
      ], async (f) => {
        const queue = value(f, "queue");
        if (!queue) return unnamed("queue", "give the queue's name");
        if (!view.queueNames.has(queue)) {
          // Declared first, with the defaults: the app must have the queue.
          const declared = await call("PUT", "/" + enc(app) + "/queues/" + enc(queue));
          if (declared.status >= 400) return declared;
        }
        return call("PUT", path + "/queues/" + enc(queue));
      });
      const more = h("details", {}, [h("summary", {text: "Scale, consume"}), autoscale, consume]);
      tools.append(buttons, more);
    }
    const row = h("tr", {"data-instance": instance.name, "data-branch": part.branch}, [
      cells.name, cells.branch, cells.state, cells.pool, cells.queues, cells.restarts, cells.exit,
      tools,
    ]);
    const path = instancePath(app, instance.name);
    return {element: row, cells: cells, shown: null, local: local, path: path};
  }

  function describeExit(last) {
    if (!last) return "—";
    const coded = last.code !== null && last.code !== undefined;
    const how = last.signal ? last.signal : (coded ? "exit " + last.code : "unknown");
    const when = last.at ? new Date(last.at).toLocaleTimeString() : "";
    return how + (last.reason ? " (" + last.reason + ")" : "") + (when ? " at " + when : "");
  }

  function fillRow(view, row, part, instance) {
    const shown = JSON.stringify(instance);
    if (row.shown === shown) return;
    row.shown = shown;
    const c = row.cells;
    c.name.textContent = instance.name;
    c.branch.textContent = part.branch;
    c.state.textContent = instance.state + (instance.is_enabled ? "" : " (disabled)");
    c.state.className = "state " + instance.state;
    const now = instance.processes === null || instance.processes === undefined
      ? "—" : instance.processes;
    c.pool.textContent = now + " (min " + instance.min_concurrency + ", max " +
      instance.max_concurrency + ")";
    c.restarts.textContent = String(instance.restarts);
    c.exit.textContent = describeExit(instance.last_exit);
    c.queues.replaceChildren();
    for (const queue of instance.queues) {
      const item = h("span", {class: "queue", "data-queue": queue}, [queue + " "]);
      if (row.local) {
        const remove = h("button", {type: "button", class: "small",
          "aria-label": "Stop consuming " + queue, text: "×"});
        const levers = row.element.querySelector('[data-form="levers"]');
        remove.addEventListener("click",
          () => act(levers, () => call("DELETE", row.path + "/queues/" + enc(queue))));
        item.append(remove);
      }
      c.queues.append(item);
    }
    const enabled = instance.is_enabled && instance.state !== "failed";
    const disable = row.element.querySelector('[data-action="disable"]');
    if (disable) {
      disable.hidden = !enabled;
      row.element.querySelector('[data-action="enable"]').hidden = enabled;
      row.element.querySelector('[data-action="restart"]').disabled = !enabled;
    }
  }

  function showInstances(view, parts) {
    const seen = new Set();
    const notes = [];
    for (const part of parts) {
      if (part.state !== "ok") {
        notes.push(part.branch + ": " + part.state + (part.detail ? " (" + part.detail + ")" : ""));
        continue;
      }
      for (const instance of part.items || []) {
        const key = part.branch + "/" + instance.name;
        seen.add(key);
        let row = view.rows.get(key);
        if (!row) {
          row = instanceRow(view, part, instance);
          view.rows.set(key, row);
          view.instanceRows.append(row.element);
        }
        fillRow(view, row, part, instance);
      }
    }
    for (const [key, row] of view.rows) {
      if (!seen.has(key)) { row.element.remove(); view.rows.delete(key); }
    }
    view.instanceNotes = notes;
  }

  function showQueues(view, parts) {
    view.queueRows.replaceChildren();
    view.queueNames = new Set();
    for (const part of parts) {
      if (part.state !== "ok") continue;
      for (const queue of part.items || []) {
        view.queueNames.add(queue.name);
        const unknown = "unknown" + (queue.depth_error ? ": " + queue.depth_error : "");
        const messages = queue.messages === null ? unknown : String(queue.messages);
        view.queueRows.append(h("tr", {"data-queue": queue.name}, [
          h("th", {scope: "row", text: queue.name}),
          h("td", {text: part.branch}),
          h("td", {"data-col": "messages", text: messages}),
          h("td", {text: queue.consumers === null ? "—" : String(queue.consumers)}),
        ]));
      }
    }
  }

  // -- charts -------------------------------------------------------------------------------

  function chartBox(view, kind, title) {
    const box = h("figure", {class: "chart", "data-chart": kind}, [h("figcaption", {text: title})]);
    view.charts[kind] = {box: box, plot: null, keys: ""};
    return box;
  }

  function sample(view, instanceParts, queueParts) {
    const history = view.history;
    const values = new Map();
    for (const part of queueParts) for (const q of part.state === "ok" ? part.items || [] : []) {
      values.set("depth:" + (model.cluster ? part.branch + "/" : "") + q.name, q.messages);
    }
    for (const part of instanceParts) for (const i of part.state === "ok" ? part.items || [] : []) {
      values.set("pool:" + (model.cluster ? part.branch + "/" : "") + i.name, i.processes);
    }
    const now = Date.now() / 1000;
    history.t.push(now);
    for (const [key, series] of history.series) {
      series.push(values.has(key) ? values.get(key) : null);
    }
    for (const [key, v] of values) {
      if (!history.series.has(key)) {
        history.series.set(key, new Array(history.t.length - 1).fill(null).concat([v]));
      }
    }
    let drop = 0;
    while (drop < history.t.length && history.t[drop] < now - HISTORY_S) drop++;
    if (drop) {
      history.t.splice(0, drop);
      for (const series of history.series.values()) series.splice(0, drop);
    }
    for (const [key, series] of history.series) {
      if (series.every((v) => v === null)) history.series.delete(key);
    }
    draw(view, "depth");
    draw(view, "pool");
  }

  function draw(view, kind) {
    const chart = view.charts[kind];
    const keys = Array.from(view.history.series.keys())
      .filter((k) => k.startsWith(kind + ":")).sort();
    const data = [view.history.t].concat(keys.map((k) => view.history.series.get(k)));
    const width = Math.max(280, Math.min(640, chart.box.clientWidth || 480));
    if (chart.plot && chart.keys === keys.join()) {
      if (Math.abs(chart.plot.width - width) > 8) chart.plot.setSize({width: width, height: 160});
      chart.plot.setData(data);
      return;
    }
    if (chart.plot) chart.plot.destroy();
    chart.keys = keys.join();
    const series = [{}].concat(keys.map((key, i) => ({
      label: key.slice(kind.length + 1), stroke: COLOURS[i % COLOURS.length], width: 2,
      spanGaps: false,
      value: (u, v) => (v === null || v === undefined ? "—" : String(v)),
    })));
    chart.plot = new uPlot({
      width: width, height: 160, series: series,
      scales: {y: {range: (u, min, max) => [0, Math.max(4, max || 0)]}},
      axes: [{stroke: "#333"}, {stroke: "#333", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]}],
      cursor: {drag: {x: false, y: false}},
    }, data, chart.box);
    chart.plot.root.setAttribute("role", "img");
    const named = keys.map((k) => k.slice(kind.length + 1)).join(", ") || "nothing yet";
    const caption = $("figcaption", chart.box).textContent;
    chart.plot.root.setAttribute("aria-label", caption + ": " + named);
  }

  // -- the loop -------------------------------------------------------------------------------

  let timer = null;
  let polls = 0;
  let running = false;

  async function poll() {
    if (running) return;
    running = true;
    clearTimeout(timer);
    try {
      // The branches (a neighbour may take --peer-timeout to answer) are read
      // beside the polls, not in their way; the first time, the page needs
      // this branch's id first.
      if (!model.self) await readBranches();
      else if (polls % BRANCHES_EVERY === 0) readBranches().catch(() => {});
      polls++;
      const apps = await readParts("/");
      model.apps = appNames(apps.parts);
      const answering = apps.parts.map((part) => part.branch + ":" + part.state).join();
      if (model.answering !== null && answering !== model.answering) {
        readBranches().catch(() => {}); // a member came, went or stopped answering
      }
      model.answering = answering;
      const views = await Promise.all(model.apps.map(async (name) => {
        const view = appView(name);
        try {
          const [instances, queues] = await Promise.all([
            readParts("/" + enc(name) + "/instances?details=true"),
            readParts("/" + enc(name) + "/queues?details=true"),
          ]);
          if (queues.changed || !view.queueNames) showQueues(view, queues.parts);
          if (instances.changed) showInstances(view, instances.parts);
          sample(view, instances.parts, queues.parts);
        } catch (e) {
          if (e instanceof Unauthorized) throw e;
          // The app went away between two reads: the next poll drops it.
        }
        return view;
      }));
      // In the apps' order, moving nothing that is in place (a form being
      // filled in would lose its focus).
      const holder = $("#apps");
      views.forEach((view, i) => {
        const there = holder.children[i];
        if (there !== view.section) holder.insertBefore(view.section, there || null);
      });
      for (const [name, view] of model.views) {
        if (!model.apps.includes(name)) { view.section.remove(); model.views.delete(name); }
      }
      const notes = views.flatMap((v) => v.instanceNotes || []);
      const told = notes.length ? ". " + notes.join("; ") : "";
      const stale = apps.stale
        ? ". Stale: this branch has lost the cluster's broker and shows its last view of it"
        : "";
      status("Live, updated " + new Date().toLocaleTimeString() + told + stale);
      if (!document.body.dataset.ready) {
        document.body.dataset.ready = "true";
        performance.mark("cyme-ready");
      }
    } catch (e) {
      if (e instanceof Unauthorized) {
        running = false;
        return loggedOut("The token was refused.");
      }
      status("The branch does not answer: " + (e.message || e) + ". Trying again.");
    }
    running = false;
    if (!document.hidden) timer = setTimeout(poll, POLL_MS);
  }

  function status(text) {
    $("#status").textContent = text;
  }

  // -- login ----------------------------------------------------------------------------------

  function loggedOut(reason) {
    clearTimeout(timer);
    sessionStorage.removeItem(TOKEN_KEY);
    tags.clear();
    $("#admin").hidden = true;
    $("#logout").hidden = true;
    $("#login").hidden = false;
    status(reason || "Log in to see this branch.");
    $("#login-token").focus();
  }

  async function start() {
    try {
      await detectCluster();
    } catch (e) {
      const had = sessionStorage.getItem(TOKEN_KEY);
      return loggedOut(had ? "The token was refused." : "This branch asks for a token.");
    }
    $("#login").hidden = true;
    $("#admin").hidden = false;
    $("#logout").hidden = !sessionStorage.getItem(TOKEN_KEY);
    polls = 0;
    poll();
  }

  $("#login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#login-token");
    const error = $("#login-token-error");
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!input.value) {
      input.setAttribute("aria-invalid", "true");
      error.textContent = "Give the branch's token.";
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, input.value);
    input.value = "";
    try {
      await call("GET", "/");
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      input.setAttribute("aria-invalid", "true");
      error.textContent = e instanceof Unauthorized
        ? "This is not the branch's token." : String(e.message || e);
      return;
    }
    start();
  });

  $("#logout").addEventListener("click", () => loggedOut("Logged out."));

  $("#app-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const f = event.target;
    act(f, () => {
      const name = value(f, "app");
      if (!name) return unnamed("app", "give the app a name");
      const body = value(f, "broker") ? {broker: value(f, "broker")} : {};
      return call("PUT", "/" + enc(name) + scope("?"), body);
    });
  });

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !$("#admin").hidden) poll();
  });

  start();
})();
