// Starts the GOV.UK and MoJ components on every page. Served as a module, so no inline script.
import { initAll as initGovuk } from './govuk-frontend.min.js'
import { initAll as initMoj } from './moj/moj-frontend.min.js'

initGovuk()
initMoj()
