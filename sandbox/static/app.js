// gridcall sandbox page: act as any person in any of their chats and watch the bot answer.
// Only `message.html` (built server-side from Telegram entities, everything else escaped) is
// inserted as HTML; every other string goes through textContent.
"use strict";

const S = {
  users: [],
  user: null,
  chats: [],
  chat: null,
  messages: new Map(), // message_id -> view, for the open chat
  unread: new Map(), // chat id -> count
  version: 0,
  replyTo: null,
  poll: null, // AbortController of the running long poll
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

async function call(path, body, signal) {
  const init = body === undefined
    ? { signal }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal };
  const response = await fetch(path, init);
  let data = {};
  try { data = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

function toast(text, kind = "") {
  const node = el("div", { class: `toast ${kind}` }, text);
  $("toasts").append(node);
  setTimeout(() => node.remove(), 5000);
}

function timeOf(unix) {
  return new Date(unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// -- people and chats ----------------------------------------------------------------------

async function loadUsers() {
  const data = await call("/sandbox/api/users");
  S.users = data.users;
  S.version = Math.max(S.version, data.version);
  renderUsers();
  const saved = Number(localStorage.getItem("gridcall.user"));
  const first = S.users.find((u) => u.id === saved) || S.users[0];
  if (first) await selectUser(first.id);
}

function renderUsers() {
  const list = $("users");
  list.replaceChildren(...S.users.map((u) => el(
    "li",
    { class: u.id === S.user ? "active" : "", onclick: () => selectUser(u.id) },
    el("span", {}, u.name),
    el("span", { class: "sub" }, [u.role_label, u.username ? `@${u.username}` : ""].filter(Boolean).join(" · ") || `id ${u.id}`),
  )));
  if (!S.users.length) list.append(el("li", { class: "sub" }, "还没有人 · no people yet"));
}

async function selectUser(id) {
  S.user = id;
  localStorage.setItem("gridcall.user", String(id));
  S.unread.clear();
  setReplyTo(null);
  renderUsers();
  await loadChats();
  const saved = Number(localStorage.getItem(`gridcall.chat.${id}`));
  const chat = S.chats.find((c) => c.id === saved) || S.chats[0];
  if (chat) await selectChat(chat.id);
  restartPoll();
}

async function loadChats() {
  const data = await call(`/sandbox/api/chats?user=${S.user}`);
  S.chats = data.chats;
  renderChats();
}

function chatLabel(chat) {
  const kinds = { private: "私聊 private", group: "群 group", supergroup: "群 group", channel: "频道 channel" };
  return kinds[chat.type] || chat.type;
}

function renderChats() {
  $("chats").replaceChildren(...S.chats.map((c) => el(
    "li",
    { class: c.id === S.chat ? "active" : "", onclick: () => selectChat(c.id) },
    el("span", {}, c.title),
    el("span", { class: "sub" }, `${chatLabel(c)} · ${c.id}`),
    S.unread.get(c.id) ? el("span", { class: "badge" }, S.unread.get(c.id)) : null,
  )));
}

async function selectChat(id) {
  S.chat = id;
  localStorage.setItem(`gridcall.chat.${S.user}`, String(id));
  S.unread.delete(id);
  setReplyTo(null);
  renderChats();
  const data = await call(`/sandbox/api/messages?chat=${id}&user=${S.user}`);
  $("chat-title").textContent = data.chat.title;
  S.messages = new Map(data.messages.map((m) => [m.message_id, m]));
  renderMessages(true);
}

// -- messages ------------------------------------------------------------------------------

function renderMessage(m) {
  const classes = ["msg"];
  if (m.from_bot) classes.push("bot");
  else if (m.sender_id === S.user) classes.push("mine");
  if (m.deleted) classes.push("deleted");
  if (S.replyTo && S.replyTo.message_id === m.message_id) classes.push("replying");
  const node = el("div", { class: classes.join(" "), id: `msg-${m.message_id}` });
  node.addEventListener("click", (event) => {
    if (event.target.closest("button, a") || m.deleted) return;
    setReplyTo(m);
  });
  node.append(el(
    "div", { class: "meta" },
    el("span", { class: "name" }, m.sender_name),
    m.sender_role ? el("span", { class: "role" }, m.sender_role) : null,
    el("span", {}, timeOf(m.date)),
    el("span", {}, `#${m.message_id}`),
    m.edited ? el("span", {}, "已编辑 · edited") : null,
  ));
  if (m.reply_to) {
    node.append(el("div", { class: "quote" }, `↪ ${m.reply_to.sender_name}: ${m.reply_to.snippet}`));
  }
  if (m.deleted) {
    node.append(el("div", { class: "text" }, "消息已删除 · message deleted"));
    return node;
  }
  if (m.kind === "photo" && m.photo_url) {
    node.append(el("img", { class: "picture", src: m.photo_url, alt: "🖼" }));
  } else if (m.kind === "photo") {
    node.append(el("div", { class: "media" }, `🖼 照片 · photo  ${m.photo}`));
  }
  if (m.kind === "location") {
    node.append(el("div", { class: "media" },
      `📍 位置 · location  ${m.location.latitude.toFixed(5)}, ${m.location.longitude.toFixed(5)} (lat, lon)`));
  }
  if (m.text) {
    const text = el("div", { class: "text" });
    text.innerHTML = m.html; // safe: built from entities, everything else escaped
    node.append(text);
  }
  if (m.buttons.length) {
    const box = el("div", { class: "buttons" });
    for (const row of m.buttons) {
      const line = el("div", { class: "brow" });
      for (const b of row) {
        if (b.data) {
          line.append(el("button", { type: "button", onclick: () => press(m, b.data) }, b.text));
        } else if (b.url && /^https?:/i.test(b.url)) {
          line.append(el("a", { href: b.url, target: "_blank", rel: "noopener noreferrer" }, b.text));
        } else {
          line.append(el("button", { type: "button", disabled: "disabled" }, b.text));
        }
      }
      box.append(line);
    }
    node.append(box);
  }
  return node;
}

function renderMessages(scrollToEnd) {
  const box = $("messages");
  const nearEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const items = [...S.messages.values()].sort((a, b) => a.message_id - b.message_id);
  box.replaceChildren(...items.map(renderMessage));
  if (!items.length) box.append(el("p", { class: "empty" }, "还没有消息 · no messages yet"));
  if (scrollToEnd || nearEnd) box.scrollTop = box.scrollHeight;
  renderReplyKeyboard(items);
}

function renderReplyKeyboard(items) {
  const last = [...items].reverse().find((m) => m.from_bot && !m.deleted);
  const box = $("reply-keyboard");
  if (!last || !last.keyboard.length) { box.hidden = true; box.replaceChildren(); return; }
  box.hidden = false;
  box.replaceChildren(...last.keyboard.flat().map((label) => el(
    "button", { type: "button", onclick: () => send({ text: label }) }, label,
  )));
}

function setReplyTo(m) {
  S.replyTo = m;
  $("reply-bar").hidden = !m;
  $("reply-label").textContent = m ? `${m.sender_name}: ${(m.text || m.kind).slice(0, 60)}` : "";
  document.querySelectorAll(".msg.replying").forEach((n) => n.classList.remove("replying"));
  if (m) {
    const node = $(`msg-${m.message_id}`);
    if (node) node.classList.add("replying");
    $("text").focus();
  }
}

// -- acting --------------------------------------------------------------------------------

async function send(extra) {
  if (S.user === null || S.chat === null) { toast("请先选择会话 · pick a chat first", "error"); return false; }
  const body = { user: S.user, chat: S.chat, ...extra };
  if (S.replyTo) body.reply_to = S.replyTo.message_id;
  try {
    const data = await call("/sandbox/api/send", body);
    S.messages.set(data.message.message_id, data.message);
    setReplyTo(null);
    renderMessages(true);
    return true;
  } catch (error) {
    toast(`发送失败 · not sent: ${error.message}`, "error");
    return false;
  }
}

async function press(m, data) {
  try {
    await call("/sandbox/api/press", { user: S.user, chat: m.chat_id, message_id: m.message_id, data });
  } catch (error) {
    toast(`按钮无效 · button failed: ${error.message}`, "error");
  }
}

function bindComposer() {
  const text = $("text");
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    if (await send({ text: text.value })) text.value = "";
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("reply-cancel").addEventListener("click", () => setReplyTo(null));
  $("send-location").addEventListener("click", () => {
    const longitude = Number($("lon").value);
    const latitude = Number($("lat").value);
    if (!Number.isFinite(longitude) || !Number.isFinite(latitude)) {
      toast("请输入经纬度 · enter longitude and latitude", "error");
      return;
    }
    send({ location: { longitude, latitude } });
  });
  $("send-photo").addEventListener("click", async () => {
    const caption = text.value.trim();
    if (await send({ photo: true, caption: caption || undefined })) text.value = "";
  });
}

// -- live updates --------------------------------------------------------------------------

function applyChanges(data) {
  S.version = Math.max(S.version, data.version);
  const status = $("bot-status");
  const online = data.bot.polling || data.bot.webhook;
  status.className = `pill ${online ? "on" : "off"}`;
  status.textContent = online
    ? `机器人在线 · @${data.bot.username} online`
    : "机器人未连接 · bot not connected";
  let changed = false;
  for (const m of data.messages) {
    if (m.chat_id === S.chat) {
      const isNew = !S.messages.has(m.message_id);
      S.messages.set(m.message_id, m);
      changed = true;
      if (isNew && m.from_bot && m.force_reply) setReplyTo(m);
    } else if (m.sender_id !== S.user && !m.edited) {
      S.unread.set(m.chat_id, (S.unread.get(m.chat_id) || 0) + 1);
    }
  }
  if (data.chats) S.chats = data.chats;
  renderChats();
  if (changed) renderMessages(false);
  for (const answer of data.answers) {
    if (!answer.text) continue;
    if (answer.show_alert) window.alert(answer.text);
    else toast(answer.text);
  }
}

function restartPoll() {
  if (S.poll) S.poll.abort();
  const controller = new AbortController();
  S.poll = controller;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        const user = S.user === null ? "" : `&user=${S.user}`;
        const data = await call(`/sandbox/api/state?since=${S.version}&timeout=25${user}`, undefined, controller.signal);
        if (!controller.signal.aborted) applyChanges(data);
      } catch (error) {
        if (controller.signal.aborted) return;
        $("bot-status").className = "pill off";
        $("bot-status").textContent = "沙盒未连接 · sandbox unreachable";
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  })();
}

bindComposer();
loadUsers().then(() => { if (S.user === null) restartPoll(); }).catch((error) => toast(error.message, "error"));
