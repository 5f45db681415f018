// The exchange both compression clients run on a connected socket
// (client.mjs in Node; browser.mjs in the page, where this function is
// injected as source, so it must stay self-contained): a big event the
// server sends compressed, the same not compressed, and a big echo.
// Resolves to whether each came back intact: {big, plain, echo}.
export async function exchange(socket) {
  const numbers = (n) => {
    let s = "";
    for (let i = 0; s.length < n; i++) s += `${i} `;
    return s.slice(0, n);
  };
  const once = (event) => new Promise((r) => socket.once(event, r));
  socket.emit("big", 20000);
  const big = await once("big");
  socket.emit("plain", 20000);
  const plain = await once("plain");
  const text = numbers(30000);
  socket.emit("echo", text);
  const echo = await once("echo");
  return { big: big === numbers(20000), plain: plain === numbers(20000), echo: echo === text };
}
