//! The translation tables of adding a channel from the deployment's
//! catalogue, and of what a plugin may be allowed to do. Same rules as
//! `tables.rs`: the same keys in the same order, one per line. The English
//! `cap_*` texts are the manifest crate's `Capability::description`, word
//! for word (a test below holds it), so the merchant reads what plugin
//! authors read.

pub(crate) const EN: &[(&str, &str)] = &[
    ("add_channel", "Add a channel"),
    ("catalogue_intro", "The channels this server offers. Choose one to see what it asks for and set it up."),
    ("catalogue_available", "Available"),
    ("catalogue_in_shop", "Already in your shop"),
    ("catalogue_in_shop_hint", "You can add another one, for example a second storefront at another address."),
    ("catalogue_empty", "This server offers no channels to install."),
    ("catalogue_all_installed", "Every channel this server offers is already in your shop."),
    ("asks_to", "It asks to:"),
    ("asks_nothing", "It asks for nothing."),
    ("connects_to", "It connects to:"),
    ("set_up", "Set up"),
    ("add_another", "Add another"),
    ("install_title", "Add {name}"),
    ("mount_path", "Address in your shop"),
    ("mount_path_hint", "Where its pages, feeds and webhooks are served, such as /hello."),
    ("grants_legend", "What it may do"),
    ("grants_hint", "Untick what you do not allow; the channel may then do less."),
    ("install_button", "Install"),
    ("done_installed", "The channel was installed."),
    ("err_mount", "Write a path such as /hello: a slash, then lowercase letters, digits, - and _."),
    ("err_mount_reserved", "This address belongs to the admin; choose another."),
    ("err_mount_taken", "The channel {name} is already served here; choose another address."),
    ("err_not_offered", "This server does not offer the channel {id}; choose one from the list."),
    ("cap_catalog", "read your products, prices and stock as this channel sees them"),
    ("cap_locations", "read your locations and which of them can hand over a cart"),
    ("cap_files", "read the files you upload for it, such as theme templates"),
    ("cap_carts", "create carts and place orders"),
    ("cap_orders", "record orders from this channel and read orders"),
    ("cap_customers", "find and create customer profiles and record their consent"),
    ("cap_touchpoints", "record customer journey events"),
    ("cap_storage", "keep its own private data, within a quota"),
    ("cap_http", "send requests to the internet addresses listed"),
    ("cap_mail", "send e-mail in your shop's name"),
    ("cap_settings", "read the settings you enter for it"),
    ("cap_log", "write to the operator's log"),
    ("cap_clock", "read the current time"),
];

pub(crate) const IT: &[(&str, &str)] = &[
    ("add_channel", "Aggiungi un canale"),
    ("catalogue_intro", "I canali che questo server offre. Scegline uno per vedere cosa chiede e configurarlo."),
    ("catalogue_available", "Disponibili"),
    ("catalogue_in_shop", "Già nel tuo negozio"),
    ("catalogue_in_shop_hint", "Puoi aggiungerne un altro, come un secondo negozio online a un altro indirizzo."),
    ("catalogue_empty", "Questo server non offre canali da installare."),
    ("catalogue_all_installed", "Ogni canale offerto da questo server è già nel tuo negozio."),
    ("asks_to", "Chiede di:"),
    ("asks_nothing", "Non chiede nulla."),
    ("connects_to", "Si collega a:"),
    ("set_up", "Configura"),
    ("add_another", "Aggiungine un altro"),
    ("install_title", "Aggiungi {name}"),
    ("mount_path", "Indirizzo nel negozio"),
    ("mount_path_hint", "Dove sono servite le sue pagine, i feed e i webhook, per esempio /ciao."),
    ("grants_legend", "Cosa può fare"),
    ("grants_hint", "Togli la spunta a ciò che non permetti; il canale potrebbe allora fare meno."),
    ("install_button", "Installa"),
    ("done_installed", "Il canale è stato installato."),
    ("err_mount", "Scrivi un percorso come /ciao: una barra, poi lettere minuscole, cifre, - e _."),
    ("err_mount_reserved", "Questo indirizzo è del pannello; scegline un altro."),
    ("err_mount_taken", "Qui è già servito il canale {name}; scegli un altro indirizzo."),
    ("err_not_offered", "Questo server non offre il canale {id}; scegline uno dall'elenco."),
    ("cap_catalog", "leggere i tuoi prodotti, prezzi e scorte come li vede questo canale"),
    ("cap_locations", "leggere i tuoi punti vendita e quali possono consegnare un carrello"),
    ("cap_files", "leggere i file che carichi per lui, come i modelli del tema"),
    ("cap_carts", "creare carrelli ed effettuare ordini"),
    ("cap_orders", "registrare gli ordini di questo canale e leggere gli ordini"),
    ("cap_customers", "trovare e creare profili dei clienti e registrarne il consenso"),
    ("cap_touchpoints", "registrare i passaggi del percorso dei clienti"),
    ("cap_storage", "conservare dati propri e privati, entro una quota"),
    ("cap_http", "inviare richieste agli indirizzi internet elencati"),
    ("cap_mail", "inviare e-mail a nome del tuo negozio"),
    ("cap_settings", "leggere le impostazioni che inserisci per lui"),
    ("cap_log", "scrivere nel registro del gestore"),
    ("cap_clock", "leggere l'ora corrente"),
];

#[cfg(test)]
mod tests {
    use omnistore_runtime::Capability;

    #[test]
    fn every_capability_is_said_in_both_languages_and_in_the_manifests_words() {
        for capability in Capability::ALL {
            let key = format!("cap_{}", capability.name());
            let en = super::EN.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
            assert_eq!(en, Some(capability.description()), "{key}");
            assert!(super::IT.iter().any(|(k, v)| *k == key && !v.is_empty()), "{key} in Italian");
        }
    }
}
