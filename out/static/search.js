// Search over every note, on a static host: Pagefind's index (pagefind/, written by `publisher build`)
// is loaded in the browser. Only the search page loads this script; every page works without it.
const root = new URL("../", import.meta.url); // static/ sits at the site's root
const form = document.querySelector(".search-form");
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

async function main() {
  let pagefind;
  try {
    pagefind = await import(new URL("pagefind/pagefind.js", root).href);
    await pagefind.options({ excerptLength: 24 });
  } catch {
    status.textContent = "검색 색인을 불러오지 못했습니다. 사이트를 웹 서버에서 열어 주세요 (파일로 연 페이지에서는 검색이 되지 않습니다).";
    return;
  }
  let shown = "";
  async function run(query) {
    query = query.trim();
    if (query === shown) return;
    shown = query;
    const url = new URL(location.href);
    if (query) url.searchParams.set("q", query);
    else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    if (!query) {
      list.replaceChildren();
      status.textContent = "";
      return;
    }
    const search = await pagefind.debouncedSearch(query, {}, 150);
    if (search === null || query !== shown) return; // a newer query took over
    const notes = await Promise.all(search.results.slice(0, SHOWN).map((result) => result.data()));
    if (query !== shown) return;
    list.replaceChildren(...notes.map(item));
    const count = search.results.length;
    status.textContent = count
      ? `‘${query}’: 노트 ${count}편${count > SHOWN ? ` 중 ${SHOWN}편` : ""}`
      : `‘${query}’에 맞는 노트가 없습니다.`;
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
}

main();
