// While a forecast run goes on, fetch the forecast page every few seconds and show its progress; once the
// run has finished, load the page again to show the new forecast. Without JavaScript the page offers a link.
const box = document.getElementById('run-progress')
if (box) {
  const seconds = Number(box.dataset.refreshSeconds || 3)
  const poll = async () => {
    try {
      const response = await fetch(window.location.pathname, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
      const page = new DOMParser().parseFromString(await response.text(), 'text/html')
      const fresh = page.getElementById('run-progress')
      if (!fresh) {
        window.location.reload()
        return
      }
      const current = document.getElementById('run-progress')
      current.querySelector('progress').value = fresh.querySelector('progress').value
      current.querySelector('.forecast-progress__text').innerHTML = fresh.querySelector('.forecast-progress__text').innerHTML
    } catch (error) {
      // A missed poll is retried at the next tick.
    }
    window.setTimeout(poll, seconds * 1000)
  }
  window.setTimeout(poll, seconds * 1000)
}
