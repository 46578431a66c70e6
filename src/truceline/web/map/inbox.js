// The hotline inbox beside the map: the reader's pending messages (rendered by the server in
// the reader's language), each deadline counting down, acknowledge and reply buttons; a click
// on a message highlights its subject on the map.
import { api } from "/web/map/api.js";
import { t } from "/web/map/texts.js";

export class Inbox {
  constructor(list, empty, onSelect) {
    this.list = list;
    this.empty = empty;
    this.onSelect = onSelect;
    this.messages = [];
    this.selected = null;
    this.replying = null;
    setInterval(() => this.tick(), 1000);
  }

  async refresh() {
    this.messages = await api("/messages?pending=true&limit=100");
    this.render();
  }

  render() {
    if (this.replying) return;  // do not wipe a reply being typed; the next refresh redraws
    this.list.replaceChildren(...this.messages.map((m) => this.item(m)));
    this.empty.hidden = this.messages.length > 0;
    document.body.dataset.inbox = String(this.messages.length);
    this.tick();
  }

  item(message) {
    const li = document.createElement("li");
    li.dataset.id = message.id;
    li.className = `priority-${message.priority}`;
    if (message.id === this.selected) li.classList.add("selected");
    const text = document.createElement("p");
    text.textContent = message.text;
    text.lang = message.language;
    text.dir = message.rtl ? "rtl" : "ltr";
    const meta = document.createElement("div");
    meta.className = "meta";
    const from = document.createElement("span");
    from.textContent = message.from ?? t("map.from_register");
    const deadline = document.createElement("span");
    deadline.className = "deadline";
    deadline.dataset.deadline = message.deadline ?? "";
    meta.append(from, deadline);
    const actions = document.createElement("div");
    actions.className = "actions";
    const ack = button(t("map.acknowledge"), "ack", () => this.acknowledge(message));
    const reply = button(t("map.reply"), "reply", () => this.openReply(li, message));
    actions.append(ack, reply);
    li.append(meta, text, actions);
    li.addEventListener("click", () => {
      this.selected = message.id;
      for (const other of this.list.children) other.classList.toggle("selected", other === li);
      this.onSelect(message);
    });
    return li;
  }

  // Every second: each deadline as the time left, or how late it is.
  tick() {
    const now = Date.now();
    for (const element of this.list.querySelectorAll(".deadline")) {
      if (!element.dataset.deadline) { element.textContent = t("map.no_deadline"); continue; }
      const left = Math.round((Date.parse(element.dataset.deadline) - now) / 1000);
      element.classList.toggle("overdue", left < 0);
      element.textContent = left >= 0 ? t("map.deadline_in", { time: clock(left) })
                                      : t("map.deadline_past", { time: clock(-left) });
    }
  }

  async acknowledge(message) {
    await api(`/messages/${encodeURIComponent(message.id)}/ack`, { method: "POST" });
    this.messages = this.messages.filter((m) => m.id !== message.id);
    this.render();
  }

  openReply(li, message) {
    if (li.querySelector("form")) return;
    const form = document.createElement("form");
    const area = document.createElement("textarea");
    area.required = true;
    area.placeholder = t("map.reply_placeholder");
    const send = document.createElement("button");
    send.type = "submit";
    send.textContent = t("map.send");
    form.append(area, send);
    form.addEventListener("click", (event) => event.stopPropagation());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const lang = document.documentElement.lang;
      await api(`/messages/${encodeURIComponent(message.id)}/reply`, {
        method: "POST", body: { text: area.value, language: lang },
      });
      this.replying = null;
      await this.refresh();
    });
    this.replying = message.id;
    li.append(form);
    area.focus();
  }
}

function button(text, name, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.name = name;
  b.textContent = text;
  b.addEventListener("click", (event) => { event.stopPropagation(); action(); });
  return b;
}

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")}` : `${m}:${s}`;
}
