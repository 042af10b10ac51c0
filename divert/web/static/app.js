// Starts the GOV.UK and MoJ components on every page. Served as a module, so no inline script.
import { initAll as initGovuk } from './govuk-frontend.min.js'
import { initAll as initMoj } from './moj/moj-frontend.min.js'

initGovuk()
initMoj()

// The encounter form, enhanced: choosing the offence shows the questions the programmes in scope ask for
// it (the server worked them out and still decides on submit; without JavaScript it reveals them itself).
const questionsByOffence = document.getElementById('questions-by-offence')
if (questionsByOffence) {
  const byOffence = JSON.parse(questionsByOffence.textContent)
  const form = questionsByOffence.closest('form')
  const offence = form.querySelector('select[name="offence_category"]')
  const asked = form.querySelector('input[name="asked"]')
  const button = form.querySelector('.govuk-button')
  const blocks = Array.from(form.querySelectorAll('[data-question]'))
  const optional = new Set(blocks.map((block) => block.dataset.question))
  const core = asked.value.split(' ').filter((input) => input && !optional.has(input))
  offence.addEventListener('change', () => {
    const choice = byOffence[offence.value] || byOffence['']
    for (const block of blocks) {
      block.hidden = !choice.inputs.includes(block.dataset.question)
    }
    asked.value = [...core, ...choice.inputs].join(' ')
    button.textContent = choice.pending ? 'Continue' : 'Record and check eligibility'
  })
}
