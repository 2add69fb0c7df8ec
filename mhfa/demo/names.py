"""Names for demo people, drawn from names common in the West Midlands' communities."""

FIRST_NAMES = (
    "Olivia Amelia Isla Ava Mia Sophia Grace Lily Freya Emily Ivy Ella Rosie Evie Florence Poppy Charlotte "
    "Willow Isabella Sophie Aisha Fatima Maryam Zainab Amira Hafsa Ayesha Khadija Inaya Simran Priya Harpreet "
    "Jaspreet Manpreet Navdeep Gurpreet Anjali Deepa Nisha Kiran Chloe Jessica Megan Hannah Lauren Emma Sarah "
    "Rachel Laura Karen Julie Susan Helen Claire Joanne Nicola Amani Chidinma Ngozi Abena Esi Shanice Tanisha "
    "Oliver George Noah Arthur Harry Leo Muhammad Jack Charlie Oscar Jacob Henry Thomas Freddie Alfie Theo "
    "William James Joshua Daniel Ryan Liam Adam Mohammed Ahmed Ali Hassan Omar Yusuf Ibrahim Bilal Imran Zain "
    "Arjun Rohan Sanjay Rajesh Amit Vikram Harjit Gurdeep Jaswinder Kuldeep David Paul Mark Andrew Richard "
    "Stephen Michael Robert Christopher Darren Lee Craig Kwame Kofi Tunde Chinedu Emeka Jerome Marcus Tyrone "
    "Piotr Tomasz Agnieszka Katarzyna Andrei Elena Sean Aoife Niamh Ciaran"
).split()

LAST_NAMES = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
    "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill "
    "Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker "
    "Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
    "Miller Cox Richards Khan Ahmed Hussain Ali Begum Akhtar Mahmood Iqbal Rashid Malik Shah Bibi Kaur Singh "
    "Sandhu Gill Dhillon Sidhu Bains Atwal Johal Sharma Kumar Mistry Chauhan Mehta Joshi Okafor Adeyemi "
    "Mensah Asante Owusu Campbell Francis Grant Brooks Nowak Kowalski Wisniewski Popescu O'Brien Byrne Walsh"
).split()
