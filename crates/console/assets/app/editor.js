// The hook's code editor: CodeMirror 6, loaded only on the screens that edit code.
import { html, useEffect, useRef, useState } from '/vendor/ui.js';

let loading = null;
function loadEditor() {
  loading ??= import('/vendor/editor.js');
  return loading;
}

/** `mark`: `{ line, column, message }` of a compile error; `goto`: a line to show;
 * `typescript`: highlight TypeScript (set when the editor is made). */
export function CodeEditor({ id, value, onChange, mark, goto, label, typescript }) {
  const host = useRef(null);
  const view = useRef(null);
  const cm = useRef(null);
  const [ready, setReady] = useState(false);
  const changed = useRef(onChange);
  changed.current = onChange;
  // Set while the page itself replaces the text (a new starting code): not the user's edit.
  const replacing = useRef(false);
  useEffect(() => {
    let live = true;
    loadEditor().then((lib) => {
      if (!live || !host.current) return;
      cm.current = lib;
      // In a shadow root, CodeMirror styles itself with constructed style sheets, which the
      // console's Content-Security-Policy (style-src 'self', no inline <style>) allows.
      const shadow = host.current.shadowRoot ?? host.current.attachShadow({ mode: 'open' });
      view.current = new lib.EditorView({
        parent: shadow,
        root: shadow,
        state: lib.EditorState.create({
          doc: value,
          extensions: [
            // Before basicSetup, whose default colours (orange, red) are too light on white.
            lib.syntaxHighlighting(highlightStyle(lib)),
            lib.basicSetup,
            lib.javascript({ typescript: Boolean(typescript) }),
            lib.lintGutter(),
            THEME(lib),
            lib.EditorView.contentAttributes.of({ 'aria-label': label, id }),
            lib.EditorView.updateListener.of((update) => {
              if (update.docChanged && !replacing.current) changed.current(update.state.doc.toString());
            }),
          ],
        }),
      });
      // The scroller can scroll wide code sideways: keyboard users reach it too.
      view.current.scrollDOM.tabIndex = 0;
      view.current.scrollDOM.setAttribute('aria-label', `${label}, scroll area`);
      host.current.dataset.ready = 'true';
      setReady(true);
    });
    return () => {
      live = false;
      view.current?.destroy();
    };
  }, []);
  // Text given from outside (the starting code for another type or entity) replaces the
  // editor's; the user's own edits come back as the same text and change nothing here.
  useEffect(() => {
    const editor = view.current;
    if (!editor || value === editor.state.doc.toString()) return;
    replacing.current = true;
    editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    replacing.current = false;
  }, [value, ready]);
  // The compile error, as a lint diagnostic at its line and column.
  useEffect(() => {
    const editor = view.current;
    if (!editor || !cm.current) return;
    const diagnostics = [];
    if (mark) {
      const line = editor.state.doc.line(Math.min(Math.max(mark.line, 1), editor.state.doc.lines));
      const from = Math.min(line.from + Math.max(mark.column - 1, 0), line.to);
      diagnostics.push({ from, to: Math.max(from, Math.min(from + 1, line.to)), severity: 'error', message: mark.message });
    }
    editor.dispatch(cm.current.setDiagnostics(editor.state, diagnostics));
    if (mark) showLine(editor, mark.line);
  }, [mark, ready]);
  useEffect(() => {
    if (goto && view.current) showLine(view.current, goto);
  }, [goto, ready]);
  return html`<div class="editor" ref=${host} data-ready="false"></div>`;
}

/** Syntax colours, each at least 4.5:1 on white. */
function highlightStyle(lib) {
  const t = lib.tags;
  return lib.HighlightStyle.define([
    { tag: t.keyword, color: '#6f1fa3' },
    { tag: [t.atom, t.bool, t.url, t.labelName], color: '#1c3f94' },
    { tag: [t.literal, t.number], color: '#0d6131' },
    { tag: [t.string, t.special(t.string), t.regexp, t.escape], color: '#9a1b12' },
    { tag: t.definition(t.variableName), color: '#0b47a8' },
    { tag: [t.typeName, t.namespace, t.className], color: '#065e52' },
    { tag: t.definition(t.propertyName), color: '#0b47a8' },
    { tag: t.comment, color: '#5c6370', fontStyle: 'italic' },
    { tag: t.invalid, color: '#b3261e' },
  ]);
}

/** The editor's own look (the page's style sheet does not reach into its shadow root). */
function THEME(lib) {
  return lib.EditorView.theme({
    '&': { maxHeight: '32rem', fontSize: '14px', backgroundColor: '#ffffff', color: '#1a1f2b' },
    '.cm-scroller': { overflow: 'auto', fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace' },
    '&.cm-focused': { outline: '3px solid #b15c00' },
    '.cm-gutters': { backgroundColor: '#f4f6f9', color: '#4f5868', borderRight: '1px solid #c9d0da' },
  });
}

function showLine(editor, number) {
  const line = editor.state.doc.line(Math.min(Math.max(number, 1), editor.state.doc.lines));
  editor.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
  editor.focus();
}
