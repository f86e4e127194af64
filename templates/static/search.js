// Search over every note, on a static host: Pagefind's index (pagefind/<shard>/, one a year and one a
// month in the newest year, written by `publisher build`) is loaded in the browser. Only the search
// page loads this script; every page works without it.
// A classic script, not a module: a browser runs it from file:// too (it refuses modules there), so
// the page can say why it does not search; the index is a module, loaded with import() below.
(() => {
  const root = new URL("../", document.currentScript.src); // static/ sits at the site's root
  const form = document.querySelector(".search-form");
  // Every shard's index, newest first: [{label, url}], its name for people (`2024년 5월`, `2023년`) and
  // the url of its pagefind.js relative to this page.
  const indexes = JSON.parse(form.dataset.indexes || "[]").map((index) => ({
    label: index.label,
    url: new URL(index.url, document.baseURI).href,
  }));
  const OPTIONS = { excerptLength: 24 };
  const input = document.getElementById("search-query");
  const status = document.getElementById("search-status");
  const list = document.getElementById("search-results");
  const SHOWN = 50;

  // The excerpt comes as HTML with <mark> around the words found. Parsed in an inert <template> and
  // copied as text and <mark> only, so nothing in a note can become markup here.
  function excerpt(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    const paragraph = document.createElement("p");
    paragraph.className = "excerpt";
    paragraph.lang = /[\uac00-\ud7a3]/.test(template.content.textContent) ? "ko" : "en";
    for (const node of template.content.childNodes) {
      if (node.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = node.textContent;
        paragraph.append(mark);
      } else {
        paragraph.append(node.textContent);
      }
    }
    return paragraph;
  }

  function item(note) {
    const li = document.createElement("li");
    li.className = "note";
    const heading = document.createElement("h2");
    heading.lang = note.meta.lang || "";
    const link = document.createElement("a");
    link.href = new URL(note.meta.url, root).href;
    link.textContent = note.meta.title;
    heading.append(link);
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = note.meta.date;
    li.append(heading, meta, excerpt(note.excerpt));
    return li;
  }

  // The newest shard's index is the module; the other shards are merged into it (Pagefind's multisite
  // search), so one search ranks the notes of every shard together. A shard whose index does not load
  // is left out, and the shards left out are named, newest first; none at all (file://, where a
  // browser loads no module): the page says so.
  async function loadIndexes() {
    let left = indexes;
    const missing = [];
    while (left.length) {
      const [first, ...rest] = left;
      let pagefind;
      try {
        pagefind = await import(first.url);
        await pagefind.options(OPTIONS);
        await pagefind.filters(); // settles once this index is loaded: rejects when it cannot be
      } catch {
        missing.push(first);
        left = rest;
        continue;
      }
      const folders = rest.map((index) => new URL("./", index.url).href);
      const merged = await Promise.allSettled(folders.map((folder) => pagefind.mergeIndex(folder, OPTIONS)));
      const failed = rest.filter((_, i) => merged[i].status === "rejected");
      if (!failed.length) return { pagefind, missing: named(missing) };
      // Pagefind keeps an index that failed among those it searches, and then every search fails:
      // start again without it.
      missing.push(...failed);
      await pagefind.destroy();
      left = [first, ...rest.filter((index) => !failed.includes(index))];
    }
    return { pagefind: null, missing: named(missing) };
  }

  function named(shards) {
    return indexes.filter((index) => shards.includes(index)).map((index) => index.label);
  }

  function unavailable() {
    return location.protocol === "file:"
      ? "검색 색인을 불러오지 못했습니다. 사이트를 웹 서버에서 열어 주세요 (파일로 연 페이지에서는 검색이 되지 않습니다)."
      : "검색 색인을 불러오지 못했습니다. 잠시 뒤에 페이지를 다시 열어 보세요.";
  }

  // Loading starts at once; the form listens at once too, and a query typed meanwhile waits for it.
  const ready = loadIndexes();
  ready.then(({ pagefind }) => {
    if (!pagefind) status.textContent = unavailable();
  });
  let shown = "";

  async function run(query) {
    query = query.trim();
    if (query === shown) return;
    shown = query;
    const url = new URL(location.href);
    if (query) url.searchParams.set("q", query);
    else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    const { pagefind, missing } = await ready;
    if (query !== shown || !pagefind) return; // a newer query took over, or there is nothing to search
    if (!query) {
      list.replaceChildren();
      status.textContent = "";
      return;
    }
    let search, notes;
    try {
      search = await pagefind.debouncedSearch(query, {}, 150);
      if (search === null || query !== shown) return;
      notes = await Promise.all(search.results.slice(0, SHOWN).map((result) => result.data()));
    } catch {
      if (query !== shown) return;
      list.replaceChildren();
      status.textContent = `‘${query}’: 검색하지 못했습니다. 페이지를 다시 열어 보세요.`;
      return;
    }
    if (query !== shown) return;
    list.replaceChildren(...notes.map(item));
    // Every shard's results, ranked together (Pagefind merges them by score), and every one counted.
    const count = search.results.length;
    const gaps = missing.length ? ` (${missing.join(", ")} 색인을 불러오지 못해 그 기간의 노트는 빠졌습니다)` : "";
    status.textContent =
      (count ? `‘${query}’: 노트 ${count}편${count > SHOWN ? ` 중 ${SHOWN}편` : ""}` : `‘${query}’에 맞는 노트가 없습니다.`) +
      gaps;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(input.value);
  });
  input.addEventListener("input", () => run(input.value));
  const asked = new URL(location.href).searchParams.get("q");
  if (asked) {
    input.value = asked;
    run(asked);
  }
})();
