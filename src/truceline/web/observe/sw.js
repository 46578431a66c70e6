// The observer page's service worker (scope /observe): filled by the offline-first page.
