// The chapter's src/client/socket.js, as a browser module. `io` is the global
// the socket.io-client bundle defines (index.html loads it first).
//
// `?transports=polling` in the page's address restricts the client to
// HTTP long-polling (default: polling, then upgrade to WebSocket).

import {
  IO_CONNECT,
  IO_DISCONNECT,
  IO_CLIENT_HELLO,
  IO_CLIENT_JOIN_ROOM,
  IO_SERVER_HELLO,
} from './config.js'

const transports = new URLSearchParams(window.location.search).get('transports')
const options = transports ? { transports: transports.split(',') } : {}

const socket = window.io(window.location.host, options)
// For experiments in the console, e.g. socket.emit('IO_CLIENT_HELLO', 'Hi!')
window.socket = socket

/* eslint-disable no-console */
const setUpSocket = () => {
  socket.on(IO_CONNECT, () => {
    console.log('[socket.io] Connected.')
    socket.emit(IO_CLIENT_JOIN_ROOM, 'hello-1234')
    socket.emit(IO_CLIENT_HELLO, 'Hello!')
  })

  socket.on(IO_SERVER_HELLO, (serverMessage) => {
    console.log(`[socket.io] Server: ${serverMessage}`)
  })

  socket.on(IO_DISCONNECT, () => {
    console.log('[socket.io] Disconnected.')
  })
}
/* eslint-enable no-console */

setUpSocket()
