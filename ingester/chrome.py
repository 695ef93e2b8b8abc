"""What email chrome says and looks like: the class names, styles and phrases of "view online" bars,
unsubscribe and preference lines, subscribe buttons, polls and referral blocks, and footers.

Data only (names and compiled patterns, no logic), in the languages our corpus holds. `clean` reads it
on the HTML, `convert` on the Markdown's last paragraphs, `pipeline` for confirmation links: a new
platform's class or a new language's phrase is added here, and the golden notes show what it changed.
"""

from __future__ import annotations

import re

# Email chrome by class name: any platform, and Substack's own (Omnivore's preParse list).
CHROME_CLASSES = (
    "preheader",
    "footer",
    "email-footer",
    "gmail_attr",
    # Ghost: member feedback buttons (a click votes) and the "Powered by" line; Kit's footer
    "feedback-buttons",
    "footer-powered",
    "ck-hide-in-public-posts",
)
# Not Substack's `.preamble`: the writer's own words above the post (the email header a publication sets), kept
# like the article (a one-line header that repeats in every issue goes by memory across issues).
SUBSTACK_CHROME_CLASSES = (
    "meta-author-wrap",
    "post-meta",
    "post-cta",
    "container-border",
    "email-ufi-2-top",
    "email-ufi-2-bottom",
    "subscription-widget-wrap",
    "header",
)
# What hides an element from every reader. Not `mso-hide: all`: it hides only in Outlook for Windows, and senders
# put it on the real button that every other mail program shows (Outlook gets a VML copy in a conditional comment).
HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0(?:px)?\s*(?:;|$)|"
    r"opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)",
    re.I,
)
HIDDEN_HINTS = ("none", "hidden", "max-height", "opacity")  # one of them is in every HIDDEN_STYLE match
CHROME_TEXT = re.compile(
    r"unsubscribe|abmelden|abbestellen|se d[ée]sinscrire|manage (?:your )?(?:subscription|preferences)|"
    r"update (?:your )?(?:subscription )?preferences|email preferences|(?:update|edit) your profile|"
    r"profil (?:jetzt )?(?:aktualisieren|bearbeiten)|view (?:this )?(?:email|newsletter|post|it)? ?"
    r"(?:in|on) (?:your|a|the)? ?(?:browser|web)|view (?:this email )?online|read (?:this )?(?:post )?online|"
    r"im browser (?:ansehen|anzeigen|öffnen)|"
    r"you(?: are|'ve| have)? receiv(?:ed|ing) this|this (?:e-?mail|message|newsletter) was sent to|"
    r"forwarded this (?:e-?mail|newsletter|message|issue)|"
    r"(?:e-?mail|newsletter|message|issue) (?:was )?forwarded to you|"
    r"nicht mehr (?:erhalten|empfangen)|"
    r"no longer (?:wish|want) to receive|"
    r"退订|取消订阅|在浏览器中(?:查看|打开|阅读)|网页版|(?:邮件)?显示不正常|无法正常显示|"
    r"ne s'affiche pas correctement|lire en ligne|"
    r"se d[ée]sabonner|(?:having )?trouble viewing|(?:is not|isn't) display(?:ed|ing) (?:correctly|properly)|"
    r"webversion|webseitenansicht|webansicht|stop getting this|change your email address|"
    r"e-?mail nicht (?:richtig |korrekt )?(?:lesen|angezeigt)|"
    # the same lines in the other languages European senders write in (French, Spanish, Italian, Portuguese,
    # Dutch, more German): managing or ending the subscription, why the reader gets the mail
    r"g[ée]rer (?:mon|votre|vos|mes) (?:abonnements?|pr[ée]f[ée]rences)|mettre à jour (?:vos|mes) pr[ée]f[ée]rences|"
    r"vous recevez (?:ce|cet) (?:e-?mail|mail|message|courriel)|ne plus recevoir|"
    r"dar(?:se|te) de baja|cancelar (?:la |tu |su )?suscripci[óo]n|"
    r"gestionar (?:tu|su|mis) (?:suscripci[óo]n|preferencias)|"
    r"ha(?:s)? recibido este (?:correo|e-?mail|mensaje)|"
    r"annulla (?:l'|la )?iscrizione|disiscriviti|gestisci (?:le )?(?:tue )?preferenze|"
    r"hai ricevuto questa (?:e-?mail|mail)|"
    r"cancelar (?:a )?(?:sua )?inscri[çc][ãa]o|descadastr|gerenciar (?:suas )?prefer[êe]ncias|"
    r"\bafmelden|uitschrijven|(?:je|u) ontvangt deze (?:e-?mail|nieuwsbrief)|"
    r"abonnement verwalten|einstellungen verwalten|(?:du erhältst|sie erhalten) diese (?:e-?mail|nachricht|newsletter)|"
    r"im browser (?:zu )?(?:ansehen|anzeigen|öffnen|lesen)|weitergeleitet bekommen|"
    r"warum (?:bekommst du|erhältst du|erhalten sie) diese",
    re.I,
)
VIEW_ONLINE = re.compile(
    r"(?:view|read|open).{0,40}(?:in (?:your |a |the )?browser|online|on the web)|im browser|在浏览器中|网页版|"
    r"lire en ligne|webversion|webseitenansicht|webansicht|online (?:ansehen|lesen|anzeigen)|"
    # a verb to see or open, then the browser or the web version: French, Spanish, Italian, Portuguese, Dutch
    r"\b(?:voir|lire|ouvrir|afficher|consulter|ver|abrir|leer|visualizar|visualizza|apri|leggi|vedi|bekijk|lees)\b"
    r".{0,30}(?:navigateur|navegador|browser|version (?:web|en ligne)|versi[óo]n web|versione web|vers[ãa]o web|"
    r"webversie)|version en ligne|versi[óo]n en l[íi]nea|versione online",
    re.I,
)
TWEET_COUNTS = re.compile(r"(?<![\d.,])[\d.,]+[KkMm]?\s*(?:Likes?|Retweets?|Reposts?|Replies|Quotes?)", re.I)
# A call to subscribe or upgrade, as a button or a link of its own (never text inside a sentence)
SUBSCRIBE_BUTTON = re.compile(
    r"(?<![→>»›▶➔ ])[→>»›▶➔ ]*+(?:"
    r"(?:subscribe|sign up|upgrade|join)(?: (?:now|for free|free|today|here|to paid|to premium|the newsletter))?[.!]?|"
    r"(?:jetzt |kostenlos |gratis )?(?:abonnieren|anmelden)|立即订阅|订阅"
    r")[ →>»›▶➔]*",
    re.I,
)
GENERIC_LINK_TEXT = re.compile(
    r"(?:(?:(?:click|subscribe|sign up) )?here|this link|hier|ici|aquí|qui|点击这里|这里|(?:hier )?klicken|"
    r"cliquez ici|clic aquí|clicca qui|)[.!]?",
    re.I,
)
# Polls and referral blocks (a click votes or carries the reader's referral code)
ENGAGEMENT_TEXT = re.compile(
    r"participate in polls|copy and paste this link to others|you currently have \d+ referrals?|"
    r"/subscribe\?ref=|你目前推荐了|专属推荐链接",
    re.I,
)
# A line that labels a block as an ad, alone on its line ("Sponsored", "Anzeige", "Presented by Acme", an affiliate
# disclosure): a hint only. `clean.rows.drop_sponsored` removes the block it opens when the block's shape agrees. The
# `label` group is the label's own words: a line with no word after them names no sponsor ("ANZEIGE", a bare label).
AD_LABEL = re.compile(
    r"(?<![\W_])[\W_]*+(?P<label>sponsored|sponsoris[ée]e?|sponsorizzato|gesponsert|gesponsord|patrocinado|anzeige|werbung|"
    r"publicit[ée]|publicidad|pubblicit[àa]|advertentie|reclame|advertisement|advertorial|partenaire|"
    r"paid (?:post|partnership|content)|bezahlte partnerschaft|contenu sponsoris[ée]|"
    r"sponsor(?:ed)? (?:post|content|message|link)|(?:a )?(?:word|message) from our sponsors?|"
    r"(?:today['’]?s |our )?sponsors?|presented by|brought to you by|in partnership with|"
    r"in zusammenarbeit mit|en partenariat avec|together with|"
    # an affiliate disclosure over a product card ("G/O Media might get a commission")
    r"[^\n]{0,30}?\b(?:might|may|could|can) (?:get|earn|receive) (?:a )?(?:small )?(?:share of|commis{1,2}ion)|"
    r"affiliate links?|[^\n]{0,30}?\b(?:erhalten|bekommen) (?:wir )?(?:ggf\. |eventuell |m[öo]glicherweise )?"
    r"eine (?:kleine )?provision)\b[^\n]{0,40}",
    re.I,
)
MAX_AD_LABEL = 60  # characters: a label line is short
# A link that confirms a subscription or verifies an address: shown to the user, never opened or cleaned.
CONFIRM_HINT = re.compile(r"confirm|verif|activat|bestätig|/vf-|opt-?in|subscribe", re.I)

# Footers, in plain-text mail after a rule line, and in a note's last paragraphs
FOOTER_TEXT = re.compile(
    r"unsubscribe|receiving this|manage (?:your )?(?:subscription|preferences)|mailman/listinfo|mailing list|"
    r"maillist|退订",
    re.I,
)
FOOTER_LINE = re.compile(
    r"©|\(c\)\s*\d{4}|all rights reserved|alle rechte vorbehalten|\bimpressum\b|registergericht|amtsgericht|"
    r"\bHR[AB]\s*\d|umsatzsteuer|\bust-?id|\bvat (?:id|number)|\b(?:tel|fax)\.?\s*[:+(\d]|\bp\.?\s?o\.? box\b|"
    r"postfach|you(?:'|’)re (?:subscribed|getting|receiving)|you are (?:subscribed|receiving)|"
    r"if you were forwarded|newsletter-profil|statt abmelden|\bdatenschutz|unsubscribe|abmelden|"
    r"nicht mehr (?:erhalten|empfangen)|no longer (?:wish|want) to receive|"
    r"\biban\b|\bbic\b|(?-i:\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\bPMB\s*\d)",
    re.I,
)
# A line about the reader's subscription or where the mail lands ("Subscribe and read past issues",
# "You're currently a free subscriber to …", "add us to your address book"): a hint only, read on the short
# lines that end a mail once its footer went (`clean.tail.subscription_start`)
SUBSCRIPTION_HINT = re.compile(
    r"\bsubscribe\b|\bsubscription\b|\b(?:you(?:'|’)re|you are) (?:currently |now )?(?:a )?(?:free |paid )?subscriber|"
    r"address book|contacts? list|safe senders?|whitelist|spam folder|junk folder|promotions tab|"
    r"\babonnieren\b|\babonnement\b|\bs'abonner\b|adressbuch|carnet d'adresses",
    re.I,
)
# Greeting words opening a mail ("Hi Anna", "Hello"): a hint only. `render._outlines` finds a salutation by
# its place (a short line at the top of the article ending in a comma) and by the reader's mark; this list
# adds the comma-less greetings it knows, at that place only
GREETING = re.compile(
    r"(?:hi|hello|hey|dear|greetings|hallo|moin|liebe[rsn]?|guten (?:morgen|tag|abend)|bonjour|bonsoir|salut|"
    r"ch[eè]re?s?|hola|buenos d[ií]as|ciao|buongiorno|ol[aá]|hej|你好|大家好|各位)(?![\w])",
    re.I,
)
