// The hook editor: CodeMirror 6 with JavaScript, line numbers, bracket matching, search
// and lint markers (the compile error from the API).
export { EditorView, keymap } from '@codemirror/view';
export { EditorState } from '@codemirror/state';
export { basicSetup } from 'codemirror';
export { javascript } from '@codemirror/lang-javascript';
export { setDiagnostics, lintGutter } from '@codemirror/lint';
export { openSearchPanel } from '@codemirror/search';
export { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
export { tags } from '@lezer/highlight';
