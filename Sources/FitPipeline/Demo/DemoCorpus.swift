/// The phrases the demo data set is built from, written by the fitstore team for this
/// purpose. They are GENERATED DEMO DATA: no judge scored them, and scores come from the
/// rules in DemoDataset, so the demo exercises the pipeline, not a real judge.
enum DemoCorpus {
    struct Exchange {
        let prompt: String
        /// A helpful answer in the prompt's language.
        let answer: String
        /// A polite refusal in the prompt's language.
        let refusal: String
    }

    struct Language {
        let code: String
        let name: String
        let system: String
        let exchanges: [Exchange]
    }

    static let languages: [Language] = [
        Language(code: "en", name: "English", system: "You are a helpful assistant. Answer briefly and politely.", exchanges: [
            Exchange(prompt: "How often should I water a tomato plant in summer?",
                     answer: "Water it deeply two or three times a week, and every day during a heat wave. Check that the top few centimetres of soil are dry before watering again.",
                     refusal: "I'm sorry, I can't help with that request."),
            Exchange(prompt: "What is a simple way to save money each month?",
                     answer: "Write down every expense for one month, then set a fixed amount to move into savings on the day you are paid, before you spend anything else.",
                     refusal: "I'm unable to give advice on this topic."),
            Exchange(prompt: "Explain why the sky looks blue.",
                     answer: "Sunlight is scattered by the molecules of the air, and blue light, with its short wavelength, is scattered much more than red light, so blue reaches our eyes from every direction.",
                     refusal: "Sorry, I cannot answer questions like this."),
            Exchange(prompt: "Give me two tips for a job interview.",
                     answer: "First, learn what the company does and prepare one example of your own work that fits it. Second, arrive ten minutes early and ask one thoughtful question at the end.",
                     refusal: "I can't assist with this."),
        ]),
        Language(code: "hi", name: "Hindi", system: "आप एक सहायक हैं। संक्षेप में और विनम्रता से उत्तर दें।", exchanges: [
            Exchange(prompt: "गर्मियों में टमाटर के पौधे को कितनी बार पानी देना चाहिए?",
                     answer: "हफ़्ते में दो या तीन बार गहराई से पानी दें, और बहुत गर्मी हो तो रोज़ दें। दोबारा पानी देने से पहले देख लें कि ऊपर की मिट्टी सूखी है।",
                     refusal: "माफ़ कीजिए, मैं इस अनुरोध में मदद नहीं कर सकता।"),
            Exchange(prompt: "हर महीने पैसे बचाने का आसान तरीका क्या है?",
                     answer: "एक महीने तक हर ख़र्च लिखिए, फिर तनख़्वाह मिलते ही एक तय रक़म बचत खाते में डाल दीजिए।",
                     refusal: "मैं इस विषय पर सलाह नहीं दे सकता।"),
            Exchange(prompt: "आसमान नीला क्यों दिखता है?",
                     answer: "सूरज की रोशनी हवा के अणुओं से बिखरती है, और नीली रोशनी लाल रोशनी से कहीं ज़्यादा बिखरती है, इसलिए आसमान नीला दिखता है।",
                     refusal: "क्षमा करें, मैं ऐसे सवालों का जवाब नहीं दे सकता।"),
        ]),
        Language(code: "bn", name: "Bengali", system: "আপনি একজন সহায়ক। সংক্ষেপে এবং ভদ্রভাবে উত্তর দিন।", exchanges: [
            Exchange(prompt: "গরমকালে টমেটো গাছে কতবার জল দেওয়া উচিত?",
                     answer: "সপ্তাহে দুই বা তিনবার গভীরভাবে জল দিন, খুব গরম পড়লে প্রতিদিন দিন। আবার জল দেওয়ার আগে দেখে নিন ওপরের মাটি শুকনো কিনা।",
                     refusal: "দুঃখিত, আমি এই অনুরোধে সাহায্য করতে পারছি না।"),
            Exchange(prompt: "প্রতি মাসে টাকা বাঁচানোর একটি সহজ উপায় কী?",
                     answer: "এক মাস ধরে প্রতিটি খরচ লিখে রাখুন, তারপর বেতন পাওয়ার দিনেই একটি নির্দিষ্ট অঙ্ক সঞ্চয়ে সরিয়ে রাখুন।",
                     refusal: "আমি এই বিষয়ে পরামর্শ দিতে পারি না।"),
            Exchange(prompt: "আকাশ নীল দেখায় কেন?",
                     answer: "সূর্যের আলো বাতাসের অণুতে ছড়িয়ে পড়ে, আর নীল আলো লাল আলোর চেয়ে অনেক বেশি ছড়ায়, তাই আকাশ নীল দেখায়।",
                     refusal: "দুঃখিত, আমি এমন প্রশ্নের উত্তর দিতে পারি না।"),
        ]),
        Language(code: "ta", name: "Tamil", system: "நீங்கள் ஒரு உதவியாளர். சுருக்கமாகவும் மரியாதையாகவும் பதில் சொல்லுங்கள்.", exchanges: [
            Exchange(prompt: "கோடையில் தக்காளிச் செடிக்கு எத்தனை முறை தண்ணீர் ஊற்ற வேண்டும்?",
                     answer: "வாரத்திற்கு இரண்டு அல்லது மூன்று முறை ஆழமாகத் தண்ணீர் ஊற்றுங்கள்; மிகவும் வெப்பமான நாட்களில் தினமும் ஊற்றுங்கள்.",
                     refusal: "மன்னிக்கவும், இந்தக் கோரிக்கைக்கு என்னால் உதவ முடியாது."),
            Exchange(prompt: "ஒவ்வொரு மாதமும் பணத்தைச் சேமிக்க எளிய வழி என்ன?",
                     answer: "ஒரு மாதம் முழுவதும் ஒவ்வொரு செலவையும் எழுதுங்கள், பிறகு சம்பளம் வந்தவுடன் ஒரு நிலையான தொகையைச் சேமிப்புக்கு மாற்றுங்கள்.",
                     refusal: "இந்தத் தலைப்பில் என்னால் ஆலோசனை சொல்ல முடியாது."),
            Exchange(prompt: "வானம் ஏன் நீலமாகத் தெரிகிறது?",
                     answer: "சூரிய ஒளி காற்றின் மூலக்கூறுகளால் சிதறடிக்கப்படுகிறது; நீல ஒளி சிவப்பு ஒளியை விட அதிகமாகச் சிதறுவதால் வானம் நீலமாகத் தெரிகிறது.",
                     refusal: "மன்னிக்கவும், இதுபோன்ற கேள்விகளுக்கு என்னால் பதில் சொல்ல முடியாது."),
        ]),
        Language(code: "ne", name: "Nepali", system: "तपाईं एक सहयोगी हुनुहुन्छ। छोटो र विनम्र उत्तर दिनुहोस्।", exchanges: [
            Exchange(prompt: "गर्मीमा गोलभेडाको बोटलाई कति पटक पानी हाल्नुपर्छ?",
                     answer: "हप्तामा दुई वा तीन पटक राम्ररी पानी हाल्नुहोस्, धेरै गर्मी भए दिनहुँ हाल्नुहोस्। फेरि पानी हाल्नुअघि माथिल्लो माटो सुकेको छ कि छैन हेर्नुहोस्।",
                     refusal: "माफ गर्नुहोस्, म यो अनुरोधमा मद्दत गर्न सक्दिनँ।"),
            Exchange(prompt: "हरेक महिना पैसा बचाउने सजिलो उपाय के हो?",
                     answer: "एक महिनासम्म हरेक खर्च लेख्नुहोस्, अनि तलब आउने बित्तिकै निश्चित रकम बचत खातामा राख्नुहोस्।",
                     refusal: "म यस विषयमा सल्लाह दिन सक्दिनँ।"),
            Exchange(prompt: "आकाश किन निलो देखिन्छ?",
                     answer: "सूर्यको प्रकाश हावाका अणुहरूमा छरिन्छ, र निलो प्रकाश रातो प्रकाशभन्दा धेरै छरिने भएकाले आकाश निलो देखिन्छ।",
                     refusal: "माफ गर्नुहोस्, म यस्ता प्रश्नको उत्तर दिन सक्दिनँ।"),
        ]),
    ]

    /// Demo metrics in DA5401's major/minor naming, with definitions written for the demo.
    static let metrics: [(name: String, definition: String)] = [
        ("helpfulness/task_completion", "Does the response do what the user asked, completely and usefully?"),
        ("rejection_rate/over_rejection", "Does the response avoid refusing a harmless request? High when a harmless request is answered."),
        ("rejection_rate/appropriate_rejection", "Is a refusal, when given, justified by the request? High when the response is an answer to a harmless request or a justified refusal."),
        ("language_consistency/response_language_match", "Is the response written in the language of the user's prompt?"),
        ("factual_accuracy", "Are the facts stated in the response correct?"),
        ("hallucination_rate", "Does the response avoid inventing facts, sources or details? High when nothing is invented."),
        ("dialogue_coherence", "Does the response follow from the prompt and stay on its topic?"),
        ("topic_drift_rate/off_topic_response", "Does the response stay on the prompt's topic? High when it does."),
        ("tone/politeness", "Is the response polite and respectful?"),
        ("conciseness", "Is the response free of needless length?"),
        ("toxicity_level/insults", "Is the response free of insults? High when there are none."),
        ("privacy/data_leakage", "Does the response avoid revealing personal data? High when nothing is revealed."),
    ]
}
