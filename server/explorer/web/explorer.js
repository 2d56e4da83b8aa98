// Starts GraphiQL for the switchboard query explorer.
//
// The page carries its configuration in data- attributes of #graphiql, so it
// needs no inline script and the Content-Security-Policy can stay strict.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');

  function fail(message) {
    var p = document.createElement('p');
    p.className = 'explorer-error';
    p.textContent = 'The query explorer could not start: ' + message;
    root.replaceChildren(p);
  }

  if (typeof React === 'undefined' || typeof ReactDOM === 'undefined' ||
      typeof GraphiQL === 'undefined') {
    fail('its scripts did not load.');
    return;
  }

  // Queries and mutations go over HTTP POST; subscriptions over a WebSocket
  // (graphql-transport-ws protocol) to the same URL.
  var http = new URL(root.dataset.endpoint, window.location.href);
  var ws = new URL(http.href);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';

  try {
    var fetcher = GraphiQL.createFetcher({
      url: http.href,
      subscriptionUrl: ws.href,
    });
    ReactDOM.createRoot(root).render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        // Admins paste {"Authorization": "Bearer ..."} here. GraphiQL sends
        // the headers with every HTTP request and as the WebSocket
        // connection_init payload.
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
        // The demo's admin token when the server runs the demo; headers a
        // visitor typed before (persisted) win over it.
        defaultHeaders: root.dataset.defaultHeaders || undefined,
        defaultEditorToolsVisibility: 'headers',
      })
    );
  } catch (err) {
    fail(String(err && err.message ? err.message : err));
  }
})();
