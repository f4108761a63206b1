/** The dashboard's icon: a small node graph on a rounded square, no external assets. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#2453d4"/>
<path d="M9 22 L16 10 L23 22 Z" fill="none" stroke="#fff" stroke-width="2" stroke-linejoin="round"/>
<circle cx="16" cy="10" r="3.2" fill="#fff"/>
<circle cx="9" cy="22" r="3.2" fill="#9fc0ff"/>
<circle cx="23" cy="22" r="3.2" fill="#9fc0ff"/>
</svg>
`;
