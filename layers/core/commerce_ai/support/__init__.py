"""Customer service (issue 15): a bilingual (English, Chinese) bot with intents, an FAQ, slot-filling forms
over an orders backend, an emotion score and hand-off to people. Pure domain code; AWS behind `store`."""
