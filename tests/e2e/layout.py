"""What a browser test checks of a page's layout at a given width."""

# Every word (of 2 to 20 characters: longer ones are ids, links and keys, which may wrap)
# whose letters sit on more than one line.
BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const words = /[^\\s]+/g;
    let match;
    while ((match = words.exec(node.textContent))) {
      if (match[0].length < 2 || match[0].length > 20) continue;
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      if (new Set(rects.map(r => Math.round(r.bottom))).size > 1) broken.push(match[0]);
    }
  }
  const labels = [...document.querySelectorAll('td[data-label]')].filter(td => {
    const before = getComputedStyle(td, '::before');
    const lines = parseFloat(before.height) / parseFloat(before.lineHeight);
    return before.content !== 'none' && lines > 1.5;
  }).map(td => td.dataset.label);
  return broken.concat(labels.map(l => 'label:' + l));
}"""


def layout_problems(page, width: int) -> list[str]:
    found = []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        found.append(f"the page is {overflow}px wider than the {width}px screen")
    broken = page.evaluate(BROKEN_WORDS)
    if broken:
        found.append(f"words broken across lines: {sorted(set(broken))[:10]}")
    return found
