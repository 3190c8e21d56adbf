import { realDataSuite, requireData } from '../test/helpers/real-data-suite.ts';

// GroupLens no longer serves the 2016 snapshot, so it cannot be fetched: CI links it into ./data.
realDataSuite('ml-latest-small-2016', () => requireData('ml-latest-small-2016'));
