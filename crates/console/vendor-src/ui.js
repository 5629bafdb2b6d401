// The console's UI library: Preact with htm (tagged templates instead of JSX, so the
// console's own code needs no build step).
import { h, render, Fragment } from 'preact';
import { useState, useEffect, useRef, useMemo, useCallback, useErrorBoundary } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);
export { h, render, Fragment, useState, useEffect, useRef, useMemo, useCallback, useErrorBoundary };
